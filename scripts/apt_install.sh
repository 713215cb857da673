#!/usr/bin/env bash
# Install Debian packages for the tests (as root), waiting up to 10 minutes for another apt or dpkg run to let
# go of its locks instead of failing at once (exit 100). Usage: apt_install.sh WHY PACKAGE...
set -euo pipefail
why="$1"; shift
echo "test: installing $* for $why" >&2
wait_s=600
# apt-get update takes the package lists' lock, which apt's DPkg::Lock::Timeout does not cover: retry it.
errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT
deadline=$((SECONDS + wait_s))
until apt-get update -qq >/dev/null 2>"$errors"; do
  if ! grep -q "Could not get lock" "$errors" || [ "$SECONDS" -ge "$deadline" ]; then
    cat "$errors" >&2
    exit 100
  fi
  echo "test: another apt run holds its lock; waiting" >&2
  sleep 3
done
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$wait_s" install -y -qq "$@" >/dev/null

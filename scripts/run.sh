#!/usr/bin/env bash
# Run the sitewatch CLI from a project-local virtualenv, installing what the CPU default needs first.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/scripts/setup.sh" "${SITEWATCH_EXTRAS:-detect}"
exec "$here/.venv/bin/sitewatch" "$@"

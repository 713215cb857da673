#!/usr/bin/env bash
# Create .venv and install sitewatch with the given extras; CPU torch is pinned by constraints/cpu.txt.
# Re-running is cheap: it installs again only when pyproject.toml, the constraints or the extras change.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-detect}"

if [ -z "${PYTHON:-}" ]; then
  for candidate in python3.11 python3.12 python3.10 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then PYTHON=$candidate; break; fi
  done
fi
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $PYTHON" >&2
  "$PYTHON" -m venv .venv
fi

# This machine's pip configuration names index folders that may be absent; their warnings are noise.
pip_install() {
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }
  return "${PIPESTATUS[0]}"
}

# PyPI's Linux torch wheel is the CUDA build (several GB). On a machine without an NVIDIA GPU, install the
# pinned version's CPU build first: from a local wheel when pip's find-links has one, else from PyTorch's
# own CPU index. The constraints file then keeps it.
torch_pin="$(sed -n 's/^torch==//p' constraints/cpu.txt)"
if [[ ",$extras," =~ ,(vlm|all|dev), ]] && ! command -v nvidia-smi >/dev/null 2>&1 \
    && ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
  echo "setup: installing the CPU build of torch $torch_pin" >&2
  # --no-deps: a local wheel folder holds torch itself; its dependencies come from the index as usual.
  if ! pip_install --no-index --no-deps "torch==$torch_pin" >/dev/null 2>&1; then
    pip_install --index-url https://download.pytorch.org/whl/cpu "torch==$torch_pin"
  fi
fi

stamp=".venv/.installed-$(cat pyproject.toml constraints/cpu.txt | sha1sum | cut -c1-12)-${extras//[^a-z]/_}"
if [ ! -f "$stamp" ]; then
  echo "setup: installing sitewatch[$extras] (first run takes a few minutes)" >&2
  pip_install --upgrade pip
  # setuptools prints a multi-line banner about editable installs of a flat layout; it says nothing a user can act on.
  PYTHONWARNINGS=ignore pip_install -c constraints/cpu.txt -e ".[$extras]"
  touch "$stamp"
fi

#!/usr/bin/env bash
# Create .venv and install the pinned requirements when they changed.
#   scripts/venv.sh        runtime packages
#   scripts/venv.sh dev    runtime + test packages
set -euo pipefail
cd "$(dirname "$0")/.."
req=requirements.txt
[ "${1:-}" = dev ] && req=requirements-dev.txt
[ -x .venv/bin/python ] || python3 -m venv .venv
stamp=".venv/.installed-$(cat requirements*.txt | sha256sum | cut -c1-16)-$req"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
  touch "$stamp"
fi

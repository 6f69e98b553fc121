#!/usr/bin/env bash
# Idempotent development setup: .venv with every package editable, pinned deps, Java tools checked,
# the KCL jars (from amazon-kclpy's pom via its setup) and the OpenSearch jars cached under .local/.
# A second run with nothing changed does no downloads.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: $2" >&2; exit 1; }; }
need "$PYTHON" "Python 3.11+ is required (python3 not found)"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || { echo "setup: Python 3.11+ is required, found $("$PYTHON" --version)" >&2; exit 1; }
need java "Java 17+ is required for the KCL MultiLangDaemon and OpenSearch (install openjdk-17-jdk-headless: the OpenSearch launcher is compiled with javac)"
need mvn "Maven is required to fetch the OpenSearch and KCL jars (install maven)"
JAVA_MAJOR=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}' | cut -d. -f1)
[ "${JAVA_MAJOR:-0}" -ge 17 ] || { echo "setup: Java 17+ is required, found ${JAVA_MAJOR}" >&2; exit 1; }

mkdir -p .local
# Debian packages: Prometheus (+ promtool) and Chromium (+ driver) for the stack and the browser test.
if [ -z "${PULSE_SKIP_SYSTEM_DEPS:-}" ]; then
  bash scripts/install-system-deps.sh
fi
STAMP=.local/setup.stamp
HASH=$(cat requirements.lock libs/pyproject.toml devstack/pyproject.toml services/*/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
if [ "$(cat "$STAMP" 2>/dev/null)" != "$HASH" ]; then
  echo "setup: installing pinned dependencies (first run takes a few minutes)"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q --require-hashes -r requirements.lock
  .venv/bin/pip install -q --no-deps -e libs -e devstack $(for s in services/*/; do [ -f "$s/pyproject.toml" ] && echo "-e $s"; done)
  echo "$HASH" > "$STAMP"
else
  echo "setup: python packages up to date"
fi

# The KCL MultiLangDaemon jars ship inside amazon-kclpy (its setup fetched them from Maven Central
# unchecked): each must match the SHA-1 Maven Central publishes (cached: no download on a second run).
.venv/bin/python -m pulse_devstack.jars kclpy

# The indexer's KCL launcher: the MultiLangDaemon with AWS's DynamoDB Streams Kinesis Adapter
# (adapter jar from Maven Central, strict checksums; cached, no download on a second run).
.venv/bin/python -m pulse_indexer.launcher build

# OpenSearch node jars and launcher (cached; no download on a second run).
.venv/bin/python -c '
from pulse_devstack import opensearch
from pulse_devstack.paths import CACHE_DIR
opensearch.build(CACHE_DIR / "opensearch")
print("setup: OpenSearch node ready")
'
echo "setup: done"

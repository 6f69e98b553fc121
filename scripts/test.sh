#!/usr/bin/env bash
# The whole suite as two pytest processes side by side (what `make test` runs after the linters):
# the tests that use the local stack one after another, since they share its emulator, its
# OpenSearch node and the services' default ports, and the pure tests beside them, which need no
# stack and mostly use the core the stack's tests leave idle while they wait on it. Both must pass.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p .local/logs
pure_log=.local/logs/test-pure.log
.venv/bin/pytest -q -m "not stack" -p no:cacheprovider --durations=5 "$@" >"$pure_log" 2>&1 &
pure=$!
trap 'kill $pure 2>/dev/null' INT TERM
echo "test: the tests without the stack run beside these (their output follows at the end)"
.venv/bin/pytest -q -m stack --durations=15 "$@"
stack_rc=$?
wait "$pure"
pure_rc=$?
echo "--- the tests without the stack ($pure_log):"
cat "$pure_log"
echo "test: with the stack exit=$stack_rc, without exit=$pure_rc"
exit $((stack_rc != 0 || pure_rc != 0))

#!/usr/bin/env bash
# The official OpenAI realtime clients against the real guard: run from the repository root after
# the jar is built (mvn -B package or verify). Installs the locked packages on first use (npm ci),
# then runs node's test runner and prints its summary.
set -uo pipefail
cd "$(dirname "$0")"

[ -f ../target/duck-e.jar ] || { echo "target/duck-e.jar is missing: build it first (mvn -B package)"; exit 1; }
command -v node >/dev/null || { echo "node is not installed"; exit 1; }
command -v keytool >/dev/null || [ -n "${JAVA_HOME:-}" ] || { echo "keytool (JDK) is not on PATH"; exit 1; }

if [ ! -d node_modules ]; then
    npm ci --no-audit --no-fund --loglevel=error || exit 1
fi

mkdir -p ../target
log=../target/clients-test.log
node --test --test-reporter=spec test/ >"$log" 2>&1
rc=$?
echo "== clients summary (node $(node --version), node --test) =="
grep -E '^(✔|✖|▶) |^ +(✔|✖) |^ℹ (tests|suites|pass|fail|cancelled|skipped|duration_ms) ' "$log" || true
if [ "$rc" -ne 0 ]; then
    echo "== failures (full log: target/clients-test.log) =="
    sed -n '/failing tests:/,$p' "$log" | head -120
fi
exit "$rc"

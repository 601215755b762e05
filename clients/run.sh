#!/usr/bin/env bash
# The official OpenAI realtime clients against the real guard: run from the repository root after
# the jar is built (mvn -B package or verify). Installs the locked packages on first use (npm ci),
# then runs node's test runner and prints its summary.
set -uo pipefail
cd "$(dirname "$0")"

mkdir -p ../target
[ -f ../target/duck-e.jar ] || { echo "target/duck-e.jar is missing: build it first (mvn -B package)"; exit 1; }
command -v node >/dev/null || { echo "node is not installed"; exit 1; }
command -v keytool >/dev/null || [ -n "${JAVA_HOME:-}" ] || { echo "keytool (JDK) is not on PATH"; exit 1; }

# the WebRTC tests drive Debian's headless Chromium (no browser download): install it when missing
if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "chromium is missing: apt-get install -y -q chromium"
        { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } >../target/chromium-install.log 2>&1 \
            || { echo "installing chromium failed (target/chromium-install.log)"; exit 1; }
    else
        echo "chromium is missing (${CHROMIUM_PATH:-/usr/bin/chromium}) and cannot be installed here: apt-get install chromium"; exit 1
    fi
fi

# a tree installed from an older lock misses what was added since
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error || exit 1
fi

log=../target/clients-test.log
rm -f ../target/webrtc/figures.json
node --test --test-force-exit --test-reporter=spec test/ >"$log" 2>&1
rc=$?
echo "== clients summary (node $(node --version), node --test) =="
grep -E '^(✔|✖|▶) |^ +(✔|✖) |^ℹ (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ' "$log" || true
if [ -f ../target/webrtc/figures.json ]; then
    echo "== webrtc figures (target/webrtc/figures.json; screenshots in target/webrtc/) =="
    cat ../target/webrtc/figures.json
fi
if [ "$rc" -ne 0 ]; then
    echo "== failures (full log: target/clients-test.log) =="
    sed -n '/failing tests:/,$p' "$log" | head -120
fi
exit "$rc"

#!/usr/bin/env bash
# Every hostile-client attack against the real application and a stand-in upstream that bills like
# the provider; prints, per attack, the largest overspend past the session cap.
# Run from the repository root: bench/hostile-clients.sh
set -euo pipefail
cd "$(dirname "$0")/.."
log=target/hostile-clients.log
mkdir -p target
mvn -B -q test -Dtest=HostileClientTest -DfailIfNoTests=false -Dsurefire.failIfNoSpecifiedTests=false >"$log" 2>&1 || {
    grep -E 'Tests run|FAIL|expected|but was' "$log" | head -20
    exit 1
}
sed -n '/^hostile-clients/,/^$/p' target/surefire-reports/*HostileClientTest*-output.txt 2>/dev/null \
    || grep -A20 '^hostile-clients' "$log"

#!/usr/bin/env bash
# Every path a client (or a failing provider, or a retrying backend) can take to make the provider
# bill what the guard does not count, against the real application and a stand-in upstream that
# bills like the provider. Prints one markdown table: per attack, what the stand-in billed, what
# the ledger holds, what the audit store holds (its charge rows, read through GET /v1/audit/charges),
# and the overspend past the cap the attack pushes against. Fails when the audit holds less than was
# billed, or differs from the bill where the usage arrived.
# Run from the repository root: bench/hostile-clients.sh   (extra Maven flags in MVN_FLAGS, e.g. -o)
set -euo pipefail
cd "$(dirname "$0")/.."
CLASSES=EstimatedChargeTest,CrossSessionCapsTest,DayBudgetRotationTest,BreakerConcurrencyTest,IdempotentUsageTwoNodeAppTest,AbortedHandshakeAppTest,HostileClientTest,ReservationsAppTest
log=target/hostile-clients.log
mkdir -p target
rm -f target/surefire-reports/*-output.txt
status=0
# one fork: the 50-thread breaker test next to a relay test would starve the stand-in's pings on 2 cores
# shellcheck disable=SC2086
mvn -B -q ${MVN_FLAGS:-} test -Dtest="$CLASSES" -DforkCount=1 -Dmaven.test.redirectTestOutputToFile=true \
    -DfailIfNoTests=false -Dsurefire.failIfNoSpecifiedTests=false >"$log" 2>&1 || status=$?
lines=$(for c in ${CLASSES//,/ }; do cat target/surefire-reports/*."$c"-output.txt 2>/dev/null; done | grep -a '^cost-integrity|' \
    || grep -a '^cost-integrity|' "$log" || true)
if [ -z "$lines" ]; then
    grep -E 'Tests run|FAIL|ERROR' "$log" | head -20 >&2
    echo "no cost-integrity lines found (see $log)" >&2
    exit 1
fi
printf '%s\n' "$lines" | awk -F'|' '
function num(s) { return s + 0 }
BEGIN {
    print "| attack | usage | provider billed | ledger | audit | cap | over the cap | check | also measured |"
    print "|---|---|---:|---:|---:|---|---:|---|---|"
    bad = 0
}
{
    delete f
    for (i = 3; i <= NF; i++) {
        k = $i; sub(/=.*/, "", k); v = substr($i, length(k) + 2); f[k] = v
    }
    billed = ("billed_max" in f) ? "≤ " f["billed_max"] : f["billed"]
    b = ("billed_max" in f) ? f["billed_max"] : f["billed"]
    cap = ("cap" in f) ? f["cap"] : "—"
    sub(/:/, " ", cap)
    over = ("over" in f) ? f["over"] : "—"
    ledger = ("ledger" in f) ? f["ledger"] : "—"
    audit = ("audit" in f) ? f["audit"] : "—"
    check = "ok"
    if (("audit" in f) && num(f["audit"]) < num(b)) check = "AUDIT BELOW BILL"
    else if (("audit" in f) && f["usage"] == "arrived" && (num(f["audit"]) != num(b) || num(f["ledger"]) != num(b))) check = "NOT EXACT"
    else if (("audit" in f) && num(f["audit"]) != num(f["ledger"])) check = "AUDIT != LEDGER"
    if (check != "ok") bad = 1
    also = ""
    for (i = 3; i <= NF; i++) {
        k = $i; sub(/=.*/, "", k)
        if (k !~ /^(billed|billed_max|ledger|audit|cap|over|usage|note)$/) {
            name = k; gsub(/_/, " ", name); also = also (also == "" ? "" : "; ") name " " f[k]
        }
    }
    if ("note" in f) also = f["note"] (also == "" ? "" : "; " also)
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, ("usage" in f) ? f["usage"] : "—", billed, ledger, audit, cap, over, check, also
}
END { exit bad }' || status=1
if grep -qE '<<< (FAILURE|ERROR)!' "$log"; then
    echo
    echo "Tests that failed (their attacks have no row):"
    grep -aE '^\[ERROR\] +[a-zA-Z.]+Test\.[A-Za-z0-9_]+ -- .*<<< (FAILURE|ERROR)!' "$log" | sed -E 's/^\[ERROR\] +/- /; s/ -- .*//' | sort -u
fi
exit "$status"

#!/usr/bin/env bash
# Rolling upgrade: three nodes of the previous release (the jar built from BASE_REF, default HEAD~1,
# the previous commit of main) are replaced one at a time by this release's jar (target/duck-e.jar)
# under about 20 usage reports a second. Each node leaves with SIGTERM and comes back on the new jar;
# the next one waits until the cluster has three members again. Mixed clusters (old and new members)
# must serve on every node: a report that gets no answer (its node was stopping) is sent again to the
# next node with the same Idempotency-Key, so every acknowledged report counts exactly once. At the end
# every session's ledger, the audit rows and the hourly spend hold exactly the acknowledged charges.
# Run from the repository root after `mvn -B package -DskipTests`: chaos/rolling-upgrade.sh
# (PREVIOUS_JAR=path skips building the previous release.)
set -euo pipefail
cd "$(dirname "$0")/.."
source chaos/lib.sh

OUT=target/chaos/rolling-upgrade
BASE_REF=${BASE_REF:-HEAD~1}
NEW_JAR=$JAR
RATE=20
WORKERS=10
SESSIONS_N=12
# a cheap report ($0.0007 at gpt-5's 10 and 30 USD per million tokens): minutes of load stay far below
# the session, client, hourly and breaker caps, so every report is answered on its merits
REPORT='{"model":"gpt-5","input_tokens":10,"output_tokens":20}'
REPORT_NANO=700000
cleanup() { set +e; touch "$OUT/stop"; jobs -p | xargs -r kill 2>/dev/null; kill_all_nodes; drop_schema;
    git worktree remove --force target/upgrade-base >/dev/null 2>&1; }
trap cleanup EXIT INT TERM
require_root_tools
rm -rf "$OUT" && mkdir -p "$OUT"

if [ -z "${PREVIOUS_JAR:-}" ]; then
    PREVIOUS_JAR=$OUT/duck-e-previous.jar
    base=$(git rev-parse --short "$BASE_REF")
    log "building the previous release ($BASE_REF = $base)"
    git worktree remove --force target/upgrade-base >/dev/null 2>&1 || rm -rf target/upgrade-base
    git worktree add -q --detach target/upgrade-base "$BASE_REF"
    (cd target/upgrade-base && { mvn -B -q -o package -DskipTests >/dev/null 2>&1 || mvn -B -q package -DskipTests; }) \
        || fail "the previous release ($base) does not build"
    cp target/upgrade-base/target/duck-e.jar "$PREVIOUS_JAR"
    git worktree remove --force target/upgrade-base
fi
[ -f "$PREVIOUS_JAR" ] || fail "$PREVIOUS_JAR is missing"
new_schema upgrade

loopback_nodes 3 "$OUT" "chaos-upgrade-$$"
declare -A RELEASE
for i in 1 2 3; do JAR=$PREVIOUS_JAR run_node "n$i" "$OUT/n$i-previous.log"; RELEASE[n$i]=previous; done
for i in 1 2 3; do wait_for 300 "n$i joined all three" members_are "n$i" 3; done
log "three nodes of the previous release form one cluster"
SESSIONS=()
for i in $(seq "$SESSIONS_N"); do
    read -r code body < <(api "n$(( i % 3 + 1 ))" POST /v1/sessions "{\"client_id\":\"upgrade-$i\",\"model\":\"gpt-5\"}")
    [ "$code" = 201 ] || fail "session $i: $code $body"
    SESSIONS+=("$(jq -r .session_id <<<"$body")")
done

# worker N: one report at a time, to n1, n2, n3 in turn; without an answer, the same report (same
# Idempotency-Key) goes to the next node. Logs "session key status node phase tries unclear", where
# unclear counts the attempts cut off after they reached a node (curl 52 empty reply, 56 reset, 28
# timeout) or answered 503: those may have been applied before the node went away.
worker() {
    local w=$1 k=$1 sid node code tries phase rc unclear
    while [ ! -f "$OUT/stop" ]; do
        sid=${SESSIONS[$(( k % SESSIONS_N ))]}; k=$((k + 1)); tries=0; unclear=0
        while :; do
            node="n$(( (k + tries) % 3 + 1 ))"; tries=$((tries + 1)); phase=$(cat "$OUT/phase"); rc=0
            code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $SERVICE_TOKEN" \
                -H "Idempotency-Key: w$w-$k" -H 'Content-Type: application/json' --data "$REPORT" \
                "${NODE_URL[$node]}/v1/sessions/$sid/usage" 2>/dev/null) || rc=$?
            case $code in 200|409|422|400|404) break ;; esac
            case "$code/$rc" in 503/*|*/52|*/56|*/28) unclear=$((unclear + 1)) ;; esac
            [ "$tries" -ge 12 ] && break
            sleep 0.25
        done
        echo "$sid w$w-$k ${code:-000} $node $phase $tries $unclear" >>"$OUT/w$w"
        sleep "$PAUSE"
    done
}
PAUSE=$(awk -v w="$WORKERS" -v r="$RATE" 'BEGIN { printf "%.3f", w / r }')
echo "previous" >"$OUT/phase"
started=$(now_ms)
for w in $(seq "$WORKERS"); do worker "$w" & done
sleep 5
for i in 1 2 3; do
    stop_node "n$i" TERM
    JAR=$NEW_JAR run_node "n$i" "$OUT/n$i-new.log"; RELEASE[n$i]=new
    for j in 1 2 3; do wait_for 300 "n$j sees three members after n$i's upgrade" members_are "n$j" 3; done
    echo "mixed-$i" >"$OUT/phase"
    [ "$i" = 3 ] && echo "new" >"$OUT/phase"
    log "n$i runs this release (${WAITED}s to rejoin)"
    sleep 5
done
touch "$OUT/stop"; wait
seconds=$(( ($(now_ms) - started) / 1000 ))
cat "$OUT"/w* >"$OUT/all"
sent=$(wc -l <"$OUT/all")

errors=0; acked_total=0; counted_total=0
for sid in "${SESSIONS[@]}"; do
    read -r code body < <(api n1 DELETE "/v1/sessions/$sid")
    [ "$code" = 200 ] || fail "end $sid: $code $body"
    acked=$(awk -v s="$sid" '$1 == s && $3 == 200' "$OUT/all" | wc -l)
    counted=$(jq -r .charged_responses <<<"$body")
    [ "$(nano "$(jq -r .cost_usd <<<"$body")")" = "$(( counted * REPORT_NANO ))" ] || errors=$((errors + 1))
    [ "$acked" = "$counted" ] || { log "$sid: acknowledged $acked, charged $counted"; errors=$((errors + 1)); }
    acked_total=$((acked_total + acked)); counted_total=$((counted_total + counted))
done
rows() { [ "$(pg "SELECT COUNT(*) FROM $SCHEMA.audit_sessions WHERE NOT is_open")" = "$SESSIONS_N" ]; }
wait_for 60 "audit rows" rows
audited=$(pg "SELECT SUM(charged_responses) FROM $SCHEMA.audit_sessions WHERE NOT is_open")
[ "$audited" = "$counted_total" ] || { log "audit rows count $audited charges, ledgers $counted_total"; errors=$((errors + 1)); }
unanswered=$(awk '$3 != 200' "$OUT/all" | wc -l)
retried=$(awk '$3 == 200 && $6 > 1' "$OUT/all" | wc -l)
cut=$(awk '{ n += $7 } END { print n + 0 }' "$OUT/all")
# the hourly spend: every acknowledged report, plus at most one more for each attempt cut off after it
# reached a node: a report whose spend part ran there but whose ledger never heard it ran is counted
# again by its retry (never under; see docs/operations.md)
hourly=$(status_of n1 | jq -r .hourly_cost_usd)
extra=$(( ($(nano "$hourly") - acked_total * REPORT_NANO) / REPORT_NANO ))
[ "$extra" -ge 0 ] && [ "$extra" -le "$cut" ] || { log "hourly spend $hourly: $extra reports off"; errors=$((errors + 1)); }

echo "== rolling-upgrade: previous release $(git rev-parse --short "$BASE_REF" 2>/dev/null || echo "$PREVIOUS_JAR") -> this one, $sent reports in ${seconds}s"
echo "   acknowledged by phase and node (mixed-N: N nodes of this release, the rest previous):"
awk '$3 == 200 { c[$5 " " $4]++ } END { for (k in c) print "     " k ": " c[k] }' "$OUT/all" | sort
echo "   acknowledged $acked_total, in ledgers $counted_total, in audit rows $audited, hourly spend \$$hourly"
echo "   acknowledged after a retry on another node: $retried (attempts cut off after reaching a node: $cut); never acknowledged: $unanswered"
echo "   hourly spend over the acknowledged charges: $extra report(s)"
[ "$errors" = 0 ] && [ "$unanswered" = 0 ] || exit 1
mixed=$(awk '$3 == 200 && ($5 == "mixed-1" || $5 == "mixed-2") { n[$4]++ } END { print length(n) }' "$OUT/all")
[ "$mixed" = 3 ] || fail "not every node served while the cluster was mixed"
log "PASS"

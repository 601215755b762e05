#!/usr/bin/env bash
# Live settings under load: three nodes take about 20 usage reports a second (round robin over the
# nodes) while the operator changes gpt-5's prices and the session cap twice with apply-settings
# (on n2, then on n3). Afterwards, from the audit store (GET /v1/audit/charges): every charge names
# one settings version, and its cost is exactly its tokens priced by that version's document (as
# the settings task showed it right after the apply); every acknowledged report is one charge row,
# none lost, none doubled; every node ends on the last version; a session started after the cap
# changed has the new cap, the sessions that were live keep theirs.
# Run from the repository root: chaos/live-settings.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source chaos/lib.sh

OUT=target/chaos/live-settings
RATE=20          # reports a second, over all workers
WORKERS=20
SESSIONS_N=30
PHASE=12         # seconds of load before, between and after the two applies
cleanup() { set +e; jobs -p | xargs -r kill 2>/dev/null; kill_all_nodes; drop_schema; }
trap cleanup EXIT INT TERM
require_root_tools
rm -rf "$OUT" && mkdir -p "$OUT"
new_schema livesettings

# the spend of the run (about 60 USD) stays under the hourly cap and the breaker
loopback_nodes 3 "$OUT" "chaos-livesettings-$$"
for i in 1 2 3; do
    NODE_ENV[n$i]="${NODE_ENV[n$i]} COST_PROTECTION_MAX_TOTAL_COST_PER_HOUR_USD=1000 \
COST_PROTECTION_MAX_CLIENT_COST_PER_HOUR_USD=1000 COST_PROTECTION_CIRCUIT_BREAKER_THRESHOLD_USD=1000"
done
for i in 1 2 3; do run_node "n$i" "$OUT/n$i.log"; done
for i in 1 2 3; do wait_for 300 "n$i joined all three" members_are "n$i" 3; done

admin_url() { local u=${NODE_URL[$1]}; echo "http://127.0.0.1:$(( ${u##*:} + 1 ))"; }
# task NODE NAME [CURL ARGS...] -> the task's answer; fails on anything but 200
task() {
    local node=$1 name=$2; shift 2
    local out
    out=$(curl -s -m 30 -w '\n%{http_code}' -X POST -H "Authorization: Bearer $OPERATOR_TOKEN" "$@" \
        "$(admin_url "$node")/tasks/$name")
    [ "${out##*$'\n'}" = 200 ] || fail "task $name on $node: $out"
    printf '%s\n' "${out%$'\n'*}"
}
# remember_version NODE : the cluster's document now, as VERSION -> "input output" of gpt-5 (USD per 1M)
declare -A RATES
remember_version() {
    local shown version
    shown=$(task "$1" settings)
    version=$(head -1 <<<"$shown" | awk '{ print $3 }')
    RATES[$version]=$(sed 1d <<<"$shown" | jq -r '.prices.models["gpt-5"] | "\(.input) \(.output)"')
    log "settings version $version: gpt-5 ${RATES[$version]}, session cap $(sed 1d <<<"$shown" | jq -r .costProtection.maxSessionCostUsd)"
}
version_of() { status_of "$1" | jq -r .settings_version; }
all_on() { for i in 1 2 3; do [ "$(version_of "n$i")" = "$1" ] || return 1; done; }

remember_version n1
SESSIONS=()
for i in $(seq "$SESSIONS_N"); do
    read -r code body < <(api "n$(( i % 3 + 1 ))" POST /v1/sessions "{\"client_id\":\"live-$i\",\"model\":\"gpt-5\"}")
    [ "$code" = 201 ] || fail "session $i: $code $body"
    SESSIONS+=("$(jq -r .session_id <<<"$body")")
done

# worker N: reports to n1, n2, n3 in turn, one every PAUSE_MS (the time a report takes included);
# logs "session status curl-exit node price_version call_cost". Forks only curl and sleep: the load
# generator shares the machine's cores with the three nodes
worker() {
    local w=$1 k=$1 sid node out rc code body next wait_ms version cost t pause
    t=${EPOCHREALTIME/./}; next=$(( t / 1000 ))
    while [ ! -f "$OUT/stop" ]; do
        sid=${SESSIONS[$(( k % SESSIONS_N ))]}; node="n$(( k % 3 + 1 ))"; k=$((k + 1))
        rc=0
        out=$(curl -s -m 10 -w '\n%{http_code}' -X POST -H "Authorization: Bearer $SERVICE_TOKEN" \
            -H 'Content-Type: application/json' --data "$REPORT" "${NODE_URL[$node]}/v1/sessions/$sid/usage") || rc=$?
        code=${out##*$'\n'}; body=${out%$'\n'*}
        if [ "$code" = 200 ]; then
            version=-; cost=-
            [[ $body =~ \"price_version\":\"([^\"]+)\" ]] && version=${BASH_REMATCH[1]}
            [[ $body =~ \"call_cost\":([0-9.]+) ]] && cost=${BASH_REMATCH[1]}
            echo "$sid $code $rc $node $version $cost" >>"$OUT/w$w"
        else
            echo "$sid ${code:-000} $rc $node - -" >>"$OUT/w$w"
        fi
        next=$(( next + PAUSE_MS ))
        t=${EPOCHREALTIME/./}; wait_ms=$(( next - t / 1000 ))
        if [ "$wait_ms" -gt 0 ]; then
            printf -v pause '%d.%03d' $(( wait_ms / 1000 )) $(( wait_ms % 1000 ))
            sleep "$pause"
        fi
    done
}
PAUSE_MS=$(( WORKERS * 1000 / RATE ))
started=$(now_ms)
for w in $(seq "$WORKERS"); do worker "$w" & sleep "$(awk -v r="$RATE" 'BEGIN { printf "%.3f", 1 / r }')"; done

sleep "$PHASE"
answer=$(printf 'prices:\n  models:\n    gpt-5:\n      input: "12.50"\n      output: "35.00"\ncostProtection:\n  maxSessionCostUsd: "6.00"\n' \
    | task n2 "apply-settings?by=chaos" -H 'Content-Type: application/yaml' --data-binary @-)
log "apply-settings on n2 under load: $(tr '\n' ' ' <<<"$answer")"
remember_version n2
V2=$(head -1 <<<"$answer" | awk '{ print $3 }')
wait_for 30 "every node on version $V2" all_on "$V2"
log "every node on version $V2 ${WAITED}s after the answer"
read -r code body < <(api n1 POST /v1/sessions '{"client_id":"after-cap","model":"gpt-5"}')
[ "$code" = 201 ] || fail "session after the cap change: $code $body"
new_cap=$(jq -r .max_cost_usd <<<"$body")
sleep "$PHASE"
answer=$(task n3 "apply-settings?by=chaos" -H 'Content-Type: application/json' \
    --data-binary '{"prices": {"models": {"gpt-5": {"output": "30.00"}}}}')
log "apply-settings on n3 under load: $(tr '\n' ' ' <<<"$answer")"
remember_version n3
V3=$(head -1 <<<"$answer" | awk '{ print $3 }')
wait_for 30 "every node on version $V3" all_on "$V3"
sleep "$PHASE"
touch "$OUT/stop"; wait
seconds=$(( ($(now_ms) - started) / 1000 ))
cat "$OUT"/w* >"$OUT/all"
sent=$(wc -l <"$OUT/all")

# the price of REPORT's tokens (1,000 in, 2,000 out) at VERSION's gpt-5 rates, in nano-USD
price_at() {
    local v=${1#v}; v=${v%%-*}
    [ -n "${RATES[$v]:-}" ] || { echo "unknown"; return; }
    read -r rin rout <<<"${RATES[$v]}"
    awk -v i="$rin" -v o="$rout" 'BEGIN { printf "%.0f", (1000 * i + 2000 * o) * 1000 }'
}

errors=0; acked_total=0; rows_total=0; lost_total=0; dup_total=0; wrong=0; answers_wrong=0
kept_cap=$(api n1 GET "/v1/sessions/${SESSIONS[0]}" | cut -d' ' -f2- | jq -r .max_cost_usd)
for sid in "${SESSIONS[@]}"; do
    read -r code body < <(api n1 DELETE "/v1/sessions/$sid")
    [ "$code" = 200 ] || [ "$code" = 409 ] || fail "end $sid: $code $body"
done
rows() { [ "$(pg "SELECT COUNT(*) FROM $SCHEMA.audit_sessions WHERE NOT is_open")" -ge "$SESSIONS_N" ]; }
wait_for 60 "audit rows of the ended sessions" rows
: >"$OUT/charges"
for sid in "${SESSIONS[@]}"; do
    acked=$(awk -v s="$sid" '$1 == s && $2 == 200' "$OUT/all" | wc -l)
    # the charge rows reach the store a moment after the session's row: wait until they stop growing
    n=-1
    for _ in $(seq 50); do
        cursor=""; : >"$OUT/c.$sid"
        while :; do
            page=$(curl -s -m 10 -H "Authorization: Bearer $OPERATOR_TOKEN" \
                "${NODE_URL[n1]}/v1/audit/charges?session=$sid&limit=500${cursor:+&cursor=$cursor}")
            jq -r '.charges[] | "\(.session_id) \(.price_version) \(.cost_usd) \(.tokens.text_input) \(.tokens.text_output)"' \
                <<<"$page" >>"$OUT/c.$sid"
            cursor=$(jq -r '.next_cursor // empty' <<<"$page")
            [ -z "$cursor" ] && break
        done
        m=$(wc -l <"$OUT/c.$sid")
        [ "$m" -ge "$acked" ] && [ "$m" = "$n" ] && break
        n=$m; sleep 0.2
    done
    cat "$OUT/c.$sid" >>"$OUT/charges"
    rows_n=$(wc -l <"$OUT/c.$sid")
    acked_total=$((acked_total + acked)); rows_total=$((rows_total + rows_n))
    [ "$rows_n" -lt "$acked" ] && lost_total=$((lost_total + acked - rows_n))
    [ "$rows_n" -gt "$acked" ] && dup_total=$((dup_total + rows_n - acked))
done
# every row: its cost is its tokens at the version it names
while read -r sid version cost tin tout; do
    [ "$tin" = 1000 ] && [ "$tout" = 2000 ] || { wrong=$((wrong + 1)); continue; }
    [ "$(price_at "$version")" = "$(nano "$cost")" ] || { wrong=$((wrong + 1)); log "row $sid $version $cost"; }
done <"$OUT/charges"
# every acknowledged answer: its call_cost at the version it names
while read -r sid code rc node version cost; do
    [ "$(price_at "$version")" = "$(nano "$cost")" ] || answers_wrong=$((answers_wrong + 1))
done < <(awk '$2 == 200' "$OUT/all")
journaled=$(curl -s -m 10 -H "Authorization: Bearer $OPERATOR_TOKEN" "${NODE_URL[n1]}/v1/audit/admin-actions" \
    | jq '[.admin_actions[] | select(.task == "apply-settings")] | length')

echo "== live-settings: $sent reports in ${seconds}s ($(( sent / seconds ))/s) over 3 nodes, $SESSIONS_N sessions;"
echo "   apply-settings on n2 after about ${PHASE}s (version $V2: gpt-5 ${RATES[$V2]}, cap 6.00), on n3 about ${PHASE}s later (version $V3: gpt-5 ${RATES[$V3]})"
echo "   answers: $(awk '{ print $2 }' "$OUT/all" | sort | uniq -c | awk '{ printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1 }')"
echo "   charge rows by version: $(awk '{ sub(/-.*/, "", $2); print $2 }' "$OUT/charges" | sort | uniq -c \
    | awk '{ printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1 }')"
echo "   acknowledged $acked_total, charge rows $rows_total: lost $lost_total, duplicated $dup_total"
echo "   rows whose cost is not their tokens at the version they name: $wrong; answers likewise: $answers_wrong"
echo "   every node on version $V3: $(all_on "$V3" && echo yes || echo no); journaled applies: $journaled"
echo "   session cap: a live session kept $kept_cap, a session started after version $V2 has $new_cap"
[ "$lost_total" = 0 ] && [ "$dup_total" = 0 ] && [ "$wrong" = 0 ] && [ "$answers_wrong" = 0 ] \
    && awk -v k="$kept_cap" -v n="$new_cap" 'BEGIN { exit !(k == 5 && n == 6) }' && [ "$journaled" = 2 ] && [ "$errors" = 0 ] || exit 1

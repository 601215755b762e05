#!/usr/bin/env bash
# Full restart: the hour survives. Three nodes share one PostgreSQL audit store (a schema of its
# own). $40 of the $50 hourly cap is spent, every node is stopped at once (SIGTERM), all three
# are started again (a new cluster: the grid is empty): the first member rebuilds the hour from the
# audit store before any node admits a session, and the next $10 closes the cap. Then the breaker
# is tripped, all three are restarted: it is still open, with the same reset time. Last, the cost
# of a rebuild: BULK_ROWS charge rows of the last hour written straight into the store, a restart,
# and the rebuilding node's log line (rows read, milliseconds).
# Run from the repository root: chaos/full-restart.sh   (BULK_ROWS=100000 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
source chaos/lib.sh

OUT=target/chaos/full-restart
BULK_ROWS=${BULK_ROWS:-100000}
cleanup() { set +e; kill_all_nodes; drop_schema; }
trap cleanup EXIT INT TERM
require_root_tools
rm -rf "$OUT" && mkdir -p "$OUT"
new_schema fullrestart
# gpt-5 at 10 and 30 USD per million tokens: 200,000 in and 100,000 out cost exactly 5.00 USD
FIVE='{"model":"gpt-5","input_tokens":200000,"output_tokens":100000}'

loopback_nodes 3 "$OUT" "chaos-full-restart-$$"
ROUND=0

start_all() {  # starts n1..n3 at once; READY_S = seconds until all three answer /health/ready 200
    ROUND=$((ROUND + 1))
    local t0; t0=$(now_ms)
    for i in 1 2 3; do run_node "n$i" "$OUT/n$i.round$ROUND.log"; done
    for i in 1 2 3; do wait_for 300 "n$i is ready" ready "n$i"; done
    READY_S=$(awk -v ms=$(( $(now_ms) - t0 )) 'BEGIN { printf "%.1f", ms / 1000 }')
}

stop_all() {  # SIGTERM to all three at once, then waits for every process to exit
    for i in 1 2 3; do kill -TERM "${NODE_PID[n$i]}" 2>/dev/null || true; done
    for i in 1 2 3; do stop_node "n$i" TERM; done
}

ready() { [ "$(${NODE_CMD[$1]} curl -s -o /dev/null -w '%{http_code}' -m 5 "${NODE_URL[$1]}/health/ready")" = 200 ]; }
field() { status_of "$1" | jq -r ".$2"; }
spent_is() { awk -v h="$(field "$1" hourly_cost_usd)" -v w="$2" 'BEGIN { exit !(h == w) }'; }

spend_five() {  # spend_five NODE CLIENT: a session charged exactly 5.00 USD (its cap ends it)
    local code body sid
    read -r code body < <(api "$1" POST /v1/sessions "{\"client_id\":\"$2\",\"model\":\"gpt-5\"}")
    [ "$code" = 201 ] || fail "session of $2 on $1: $code $body"
    sid=$(jq -r .session_id <<<"$body")
    read -r code body < <(api "$1" POST "/v1/sessions/$sid/usage" "$FIVE")
    [ "$code" = 200 ] || fail "usage of $sid on $1: $code $body"
}

# the rebuilding node's log line: "... (N row(s) read and reduced in M ms; ...)"
rebuild_line() { grep -h "Spend state rebuilt from the audit store" "$OUT"/n*.round"$ROUND".log | tail -1; }

# --- 1. $40 of $50, a full stop, a full start: the next $10 closes the cap
start_all
log "cluster up and ready in ${READY_S}s"
for i in 1 2 3 4 5 6 7 8; do spend_five "n$(( (i % 3) + 1 ))" "198.51.100.$i"; done
# a node's /status shows its view of the spend, refreshed by its own charges and each sweep
wait_for 60 "n1 sees the 40 USD spent" spent_is n1 40
stop_all
log "all three stopped; starting a new cluster on the same audit store"
start_all
restart_ready=$READY_S
line1=$(rebuild_line); log "$line1"
for i in 1 2 3; do spent_is "n$i" 40 || fail "n$i sees $(field "n$i" hourly_cost_usd) USD spent after the restart, not 40"; done
spend_five n2 198.51.100.9
read -r code body < <(api n3 POST /v1/sessions '{"client_id":"198.51.100.10","model":"gpt-5"}')
[ "$code" = 201 ] || fail "at 45 USD a session must still start: $code $body"
sid=$(jq -r .session_id <<<"$body")
read -r code body < <(api n3 POST "/v1/sessions/$sid/usage" "$FIVE")
[ "$code" = 200 ] || fail "usage: $code $body"
read -r cap_code cap_body < <(api n1 POST /v1/sessions '{"client_id":"198.51.100.11","model":"gpt-5"}')
[ "$cap_code" = 503 ] && [ "$(jq -r .error <<<"$cap_body")" = hourly_limit_exceeded ] \
    || fail "at 50 USD the cap must refuse: $cap_code $cap_body"
log "after the restart: 40 USD rebuilt, +10 USD: $cap_code $(jq -r .error <<<"$cap_body") at $(jq -r .hourly_cost_usd <<<"$cap_body") USD"

# --- 2. an open breaker outlives a full restart with its reset time
curl -s -m 10 -X POST "http://127.0.0.1:$(( ${NODE_URL[n1]##*:} + 1 ))/tasks/trip-circuit-breaker?reason=full-restart" >/dev/null
wait_for 30 "n3 hears of the trip" test "$(field n3 circuit_breaker)" = open
resets_at=$(field n3 circuit_breaker_resets_at)
stop_all
start_all
line2=$(rebuild_line); log "$line2"
for i in 1 2 3; do
    [ "$(field "n$i" circuit_breaker)" = open ] || fail "n$i: breaker $(field "n$i" circuit_breaker) after the restart"
    [ "$(field "n$i" circuit_breaker_resets_at)" = "$resets_at" ] \
        || fail "n$i: breaker resets at $(field "n$i" circuit_breaker_resets_at), not $resets_at"
done
read -r code body < <(api n2 POST /v1/sessions '{"client_id":"198.51.100.12","model":"gpt-5"}')
[ "$code" = 503 ] && [ "$(jq -r .error <<<"$body")" = circuit_breaker_open ] || fail "breaker open: $code $body"
log "after the second restart: breaker open on all three, resets at $resets_at (as before), new session: $code"

# --- 3. the cost of a rebuild: BULK_ROWS charge rows of the last hour, 1,000 clients
stop_all
now=$(now_ms)
pg "INSERT INTO $SCHEMA.audit_charges (session_id, charge_key, client_id, model, text_input_tokens, audio_input_tokens,
      cached_input_tokens, text_output_tokens, audio_output_tokens, cost_usd, estimated, at_ms, price_version, recorded_at_ms)
    SELECT 'bulk_' || (g / 10), 'resp_' || g, 'client-' || (g % 1000), 'gpt-5', 0, 0, 0, 0, 0,
      0.000100000, FALSE, $now - 3000000 + (g % 3000000), 'v1', $now FROM generate_series(1, $BULK_ROWS) g" >/dev/null
start_all
line3=$(rebuild_line); log "$line3"
rows=$(sed -E 's/.*\(([0-9]+) row\(s\) read and reduced in ([0-9]+) ms.*/\1/' <<<"$line3")
ms=$(sed -E 's/.*\(([0-9]+) row\(s\) read and reduced in ([0-9]+) ms.*/\2/' <<<"$line3")

echo "== full-restart: 3 nodes, PostgreSQL audit store"
echo "   40 USD spent, all stopped, all started: ready in ${restart_ready}s, 40 USD rebuilt; +10 USD: $cap_code hourly_limit_exceeded"
echo "   breaker tripped, all restarted: open on all three until $resets_at (unchanged)"
echo "   rebuild cost: $rows rows read and reduced in $ms ms (bulk $BULK_ROWS charge rows); all three ready in ${READY_S}s"

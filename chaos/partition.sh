#!/usr/bin/env bash
# Partition: three test hosts (Linux network namespaces on a bridge, 10.77.0.0/24), a node in each,
# PostgreSQL (reached through a forwarder on the bridge) as the shared audit store. Charges on both
# sides of a cut, the minority refuses new sessions and journals its charges, the cut heals, and every
# acknowledged charge must be counted exactly once in the ledgers, the hourly spend, the breaker's
# spend and the audit rows. Exit status 1 on any loss or duplicate.
# Run as root from the repository root: chaos/partition.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source chaos/lib.sh

BRIDGE=duckbr0
SUBNET=10.77.0
OUT=target/chaos/partition
SOCAT_PID=

cleanup() {
    set +e
    for n in "${!NODE_PID[@]}"; do kill -9 "${NODE_PID[$n]}" 2>/dev/null; done
    [ -n "$SOCAT_PID" ] && kill "$SOCAT_PID" 2>/dev/null
    for i in 1 2 3; do ip netns del "duck$i" 2>/dev/null; ip link del "duckv$i" 2>/dev/null; done
    ip link del "$BRIDGE" 2>/dev/null
    drop_schema
}
trap cleanup EXIT INT TERM

require_root_tools
command -v socat >/dev/null || fail "socat is not installed"
cleanup
rm -rf "$OUT" && mkdir -p "$OUT"
new_schema partition

# --- three hosts on one bridge; PostgreSQL reachable at the bridge's address
ip link add "$BRIDGE" type bridge
ip addr add "$SUBNET.1/24" dev "$BRIDGE"
ip link set "$BRIDGE" up
for i in 1 2 3; do
    ip netns add "duck$i"
    ip link add "duckv$i" type veth peer name "duckp$i"
    ip link set "duckp$i" netns "duck$i"
    ip link set "duckv$i" master "$BRIDGE" up
    ip netns exec "duck$i" ip addr add "$SUBNET.1$i/24" dev "duckp$i"
    ip netns exec "duck$i" ip link set "duckp$i" up
    ip netns exec "duck$i" ip link set lo up
done
socat "TCP-LISTEN:5432,bind=$SUBNET.1,reuseaddr,fork" TCP:127.0.0.1:5432 >/dev/null 2>&1 &
SOCAT_PID=$!

MEMBERS="$SUBNET.11:5701,$SUBNET.12:5701,$SUBNET.13:5701"
CLUSTER="chaos-partition-$$"
for i in 1 2 3; do
    NODE_CMD[n$i]="ip netns exec duck$i"
    NODE_URL[n$i]="http://127.0.0.1:8000"
    start_node "n$i" "$OUT/n$i.log" HAZELCAST_CLUSTER_NAME="$CLUSTER" HAZELCAST_MEMBERS="$MEMBERS" \
        HAZELCAST_INTERFACES="$SUBNET.1$i" DUCKE_DATA_DIR="$OUT/n$i" \
        DATABASE_URL="jdbc:postgresql://$SUBNET.1:5432/test?currentSchema=$SCHEMA" DATABASE_USER=postgres
done
for i in 1 2 3; do wait_for 300 "n$i joined all three" members_are "n$i" 3; done
log "three nodes up (cluster $CLUSTER, audit schema $SCHEMA)"

declare -A ACKED JOURNALED
SESSIONS=()
for i in 1 2 3 4; do
    read -r code body < <(api "n$(( (i - 1) % 3 + 1 ))" POST /v1/sessions "{\"client_id\":\"client-$i\",\"model\":\"gpt-5\"}")
    [ "$code" = 201 ] || fail "session $i: $code $body"
    sid=$(jq -r .session_id <<<"$body"); SESSIONS+=("$sid"); ACKED[$sid]=0; JOURNALED[$sid]=0
done

# charge NODE ROUNDS: every session once per round through NODE; counts what was acknowledged
charge() {
    local node=$1 rounds=$2 code body
    for _ in $(seq "$rounds"); do
        for sid in "${SESSIONS[@]}"; do
            read -r code body < <(api "$node" POST "/v1/sessions/$sid/usage" "$REPORT")
            case "$code" in
                200) ACKED[$sid]=$(( ACKED[$sid] + 1 )) ;;
                202) ACKED[$sid]=$(( ACKED[$sid] + 1 )); JOURNALED[$sid]=$(( JOURNALED[$sid] + 1 )) ;;
                *) fail "usage of $sid on $node: $code $body" ;;
            esac
        done
    done
}

charge n1 2; charge n2 1; charge n3 1
log "whole cluster: $(( 4 * 4 )) charges acknowledged"

# --- cut n3 off
ip link set duckv3 down
cut=$(now_ms)
wait_for 90 "n3 notices it is alone" quorum_is n3 false; t_minority=$WAITED
wait_for 90 "n1 sees two members" members_are n1 2
wait_for 30 "n2 sees two members" members_are n2 2
t_majority=$(awk -v ms=$(( $(now_ms) - cut )) 'BEGIN { printf "%.1f", ms / 1000 }')
log "cut: n3 lost its quorum after ${t_minority}s; n1 and n2 saw two members after ${t_majority}s"

read -r code body < <(api n3 POST /v1/sessions '{"client_id":"client-new","model":"gpt-5"}')
[ "$code" = 503 ] && [ "$(jq -r .error <<<"$body")" = cluster_degraded ] || fail "minority start: $code $body"
retry=$(ip netns exec duck3 curl -s -o /dev/null -D - -X POST -H "Authorization: Bearer $SERVICE_TOKEN" \
    -H 'Content-Type: application/json' --data '{"client_id":"client-new"}' http://127.0.0.1:8000/v1/sessions \
    | awk -F': ' 'tolower($1) == "retry-after" { print $2 }' | tr -d '\r')
[ -n "$retry" ] || fail "minority refusal without Retry-After"
read -r code body < <(api n1 POST /v1/sessions '{"client_id":"client-5","model":"gpt-5"}')
[ "$code" = 201 ] || fail "majority start: $code $body"
SESSIONS+=("$(jq -r .session_id <<<"$body")"); ACKED[${SESSIONS[4]}]=0; JOURNALED[${SESSIONS[4]}]=0

charge n3 3
charge n1 2; charge n2 2
journal=$(metric n3 cost_journal_entries)
[ "$journal" = "$(( 3 * ${#SESSIONS[@]} ))" ] || fail "minority journal holds $journal entries"
log "split: minority refused a new session (503 cluster_degraded, Retry-After $retry), journaled $journal charges; majority charged on"

# --- heal
ip link set duckv3 up
heal=$(now_ms)
wait_for 180 "the halves merge" members_are n1 3; t_merge=$WAITED
wait_for 60 "n3 merged" members_are n3 3
wait_for 60 "n3 has its quorum back" quorum_is n3 true
wait_for 60 "n3 applied its journal" metric_is n3 cost_journal_entries 0
t_replay=$(awk -v ms=$(( $(now_ms) - heal )) 'BEGIN { printf "%.1f", ms / 1000 }')
log "heal: n1 saw three members after ${t_merge}s; n3 had applied its journal after ${t_replay}s"
charge n3 1

# --- verify: ledgers and audit rows, hourly spend, breaker spend
errors=0
expected_total=0
for sid in "${SESSIONS[@]}"; do
    read -r code body < <(api n2 DELETE "/v1/sessions/$sid")
    [ "$code" = 200 ] || fail "end $sid: $code $body"
    want=$(( ACKED[$sid] * REPORT_NANO )); expected_total=$(( expected_total + want ))
    got=$(nano "$(jq -r .cost_usd <<<"$body")")
    responses=$(jq -r .charged_responses <<<"$body")
    if [ "$got" != "$want" ] || [ "$responses" != "${ACKED[$sid]}" ]; then
        log "ledger $sid: $(usd "$got") USD in $responses charges, acknowledged $(usd "$want") in ${ACKED[$sid]}"
        errors=$((errors + 1))
    fi
done
audit_rows() { [ "$(pg "SELECT COUNT(*) FROM $SCHEMA.audit_sessions WHERE NOT is_open")" = "${#SESSIONS[@]}" ]; }
wait_for 60 "audit rows written" audit_rows
for sid in "${SESSIONS[@]}"; do
    row=$(pg "SELECT cost_usd, charged_responses FROM $SCHEMA.audit_sessions WHERE session_id = '$sid' AND NOT is_open")
    want="$(usd $(( ACKED[$sid] * REPORT_NANO )))|${ACKED[$sid]}"
    [ "$row" = "$want" ] || { log "audit $sid: $row, acknowledged $want"; errors=$((errors + 1)); }
done
spend_is() { [ "$(nano "$(status_of "$1" | jq -r .hourly_cost_usd)")" = "$expected_total" ] \
    && [ "$(nano "$(metric "$1" circuit_breaker_spend_usd)")" = "$expected_total" ]; }
for n in n1 n2 n3; do
    if ! ( wait_for 20 "$n spend" spend_is "$n" ) 2>/dev/null; then
        log "$n: hourly $(status_of "$n" | jq -r .hourly_cost_usd), breaker $(metric "$n" circuit_breaker_spend_usd)"
        errors=$((errors + 1))
    fi
done

acked=0; journaled=0
for sid in "${SESSIONS[@]}"; do acked=$(( acked + ACKED[$sid] )); journaled=$(( journaled + JOURNALED[$sid] )); done
echo "== partition: ${#SESSIONS[@]} sessions, $acked charges acknowledged ($journaled journaled by the minority), $(usd "$expected_total") USD"
echo "   lost member noticed: minority ${t_minority}s, majority ${t_majority}s after the cut; merged ${t_merge}s after the heal"
echo "   ledgers, audit rows, hourly spend and breaker spend on every node: $([ $errors = 0 ] && echo 'every charge counted exactly once' || echo "$errors mismatch(es)")"
echo "   took ${SECONDS}s"
[ "$errors" = 0 ] || exit 1

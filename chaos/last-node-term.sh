#!/usr/bin/env bash
# The last node: a graceful stop (SIGTERM) of the last member ends every live session
# (node_shutdown) and writes its final record before the process exits. First a lone node with
# three live sessions, one of them charged; then three nodes stopped one by one while charging on.
# Every session's audit row must be there, finished, with exactly the acknowledged cost.
# Run from the repository root: chaos/last-node-term.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source chaos/lib.sh

OUT=target/chaos/last-node-term
cleanup() { set +e; kill_all_nodes; drop_schema; }
trap cleanup EXIT INT TERM
require_root_tools
rm -rf "$OUT" && mkdir -p "$OUT"
new_schema lastnode
declare -A ACKED
SESSIONS=()

open_sessions() {  # open_sessions NODE COUNT PREFIX
    local code body
    for i in $(seq "$2"); do
        read -r code body < <(api "$1" POST /v1/sessions "{\"client_id\":\"$3-$i\",\"model\":\"gpt-5\"}")
        [ "$code" = 201 ] || fail "session on $1: $code $body"
        sid=$(jq -r .session_id <<<"$body"); SESSIONS+=("$sid"); ACKED[$sid]=0
    done
}

charge() {  # charge NODE SESSION...
    local node=$1 code body; shift
    for sid in "$@"; do
        read -r code body < <(api "$node" POST "/v1/sessions/$sid/usage" "$REPORT")
        [ "$code" = 200 ] || fail "usage of $sid on $node: $code $body"
        ACKED[$sid]=$(( ACKED[$sid] + 1 ))
    done
}

verify() {  # verify FROM: the sessions from index FROM on must have finished rows with their acknowledged cost
    local errors=0 sid row want
    for sid in "${SESSIONS[@]:$1}"; do
        row=$(audit_row "$sid")
        want="$(usd $(( ACKED[$sid] * REPORT_NANO )))|${ACKED[$sid]}|node_shutdown|f"
        [ "$row" = "$want" ] || { log "$sid: row '$row', expected '$want'" >&2; errors=$((errors + 1)); }
    done
    echo "$errors"
}

# --- a lone node, three live sessions
loopback_nodes 1 "$OUT/lone" "chaos-lone-$$"
run_node n1 "$OUT/lone.log"
wait_for 300 "the lone node is up" up n1
open_sessions n1 3 lone
for _ in 1 2 3 4 5 6; do charge n1 "${SESSIONS[0]}"; done
stop_node n1 TERM
lone_errors=$(verify 0)
log "lone node stopped: ${#SESSIONS[@]} session rows checked, $lone_errors wrong or missing"

# --- three nodes stopped one by one while the others charge on
first=${#SESSIONS[@]}
loopback_nodes 3 "$OUT/three" "chaos-three-$$"
for i in 1 2 3; do run_node "n$i" "$OUT/n$i.log"; done
for i in 1 2 3; do wait_for 300 "n$i joined all three" members_are "n$i" 3; done
open_sessions n1 2 a; open_sessions n2 2 b; open_sessions n3 2 c
three=("${SESSIONS[@]:$first}")
charge n3 "${three[@]}"
stop_node n3 TERM
charge n2 "${three[@]}"
stop_node n2 TERM
wait_for 60 "n1 is alone" members_are n1 1
quorum_is n1 true || fail "the last member lost its quorum when the others stopped gracefully"
charge n1 "${three[@]}"
stop_node n1 TERM
three_errors=$(verify "$first")

total=0; for sid in "${SESSIONS[@]}"; do total=$(( total + ACKED[$sid] )); done
echo "== last-node-term: lone node 3 live sessions, then 3 nodes stopped one by one with 6 live sessions"
echo "   $total charges ($(usd $(( total * REPORT_NANO ))) USD) acknowledged; rows missing or wrong: lone $lone_errors, three $three_errors"
[ "$lone_errors" = 0 ] && [ "$three_errors" = 0 ] || exit 1

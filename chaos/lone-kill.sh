#!/usr/bin/env bash
# A lone node killed with SIGKILL while charging: its live sessions were checkpointed to the audit
# store every AUDIT_CHECKPOINT_INTERVAL (5 s), and the next start closes their open rows as
# node_lost with the last checkpoint. The audit may miss only the charges of the last interval
# (plus one reaper sweep) before the kill.
# Run from the repository root: chaos/lone-kill.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source chaos/lib.sh

OUT=target/chaos/lone-kill
INTERVAL_MS=5000
SWEEP_MS=1000
cleanup() { set +e; kill_all_nodes; drop_schema; }
trap cleanup EXIT INT TERM
require_root_tools
rm -rf "$OUT" && mkdir -p "$OUT"
new_schema lonekill

loopback_nodes 1 "$OUT" "chaos-lonekill-$$"
run_node n1 "$OUT/n1.log"
wait_for 300 "the node is up" up n1
SESSIONS=()
for i in 1 2 3; do
    read -r code body < <(api n1 POST /v1/sessions "{\"client_id\":\"lone-$i\",\"model\":\"gpt-5\"}")
    [ "$code" = 201 ] || fail "session $i: $code $body"
    SESSIONS+=("$(jq -r .session_id <<<"$body")")
done

# charge for about 17 s: round robin, every acknowledged charge with its time
: >"$OUT/acked"
end=$(( $(now_ms) + 17000 ))
while [ "$(now_ms)" -lt "$end" ]; do
    for sid in "${SESSIONS[@]}"; do
        read -r code _ < <(api n1 POST "/v1/sessions/$sid/usage" "$REPORT")
        [ "$code" = 200 ] && echo "$(now_ms) $sid" >>"$OUT/acked"
    done
done
kill -9 "${NODE_PID[n1]}"
killed=$(now_ms)
unset "NODE_PID[n1]"
log "killed the node after $(wc -l <"$OUT/acked") acknowledged charges"

run_node n1 "$OUT/n1-again.log"
wait_for 300 "the node is up again" up n1
closed() { [ "$(pg "SELECT COUNT(*) FROM $SCHEMA.audit_sessions WHERE NOT is_open")" = 3 ]; }
wait_for 60 "open rows closed" closed

errors=0; acked_total=0; audited_total=0; late_total=0
for sid in "${SESSIONS[@]}"; do
    acked=$(awk -v s="$sid" '$2 == s' "$OUT/acked" | wc -l)
    late=$(awk -v s="$sid" -v k="$killed" -v w=$(( INTERVAL_MS + SWEEP_MS )) '$2 == s && $1 > k - w' "$OUT/acked" | wc -l)
    IFS='|' read -r cost responses reason open <<<"$(audit_row "$sid")"
    missing=$(( acked - responses ))
    printf '   %s: acknowledged %d, audited %d (%s USD, %s), missing %d, allowed %d\n' \
        "$sid" "$acked" "$responses" "$cost" "$reason" "$missing" "$late"
    [ "$(nano "$cost")" = "$(( responses * REPORT_NANO ))" ] || errors=$((errors + 1))
    { [ "$missing" -ge 0 ] && [ "$missing" -le "$late" ] && [ "$reason" = node_lost ] && [ "$open" = f ]; } || errors=$((errors + 1))
    acked_total=$((acked_total + acked)); audited_total=$((audited_total + responses)); late_total=$((late_total + late))
done
echo "== lone-kill: $acked_total charges acknowledged, $audited_total in the audit after the restart;"
echo "   missing $(( acked_total - audited_total )) ($(usd $(( (acked_total - audited_total) * REPORT_NANO ))) USD), at most $late_total allowed (the last $(( INTERVAL_MS + SWEEP_MS )) ms)"
[ "$errors" = 0 ] || { echo "   FAILED: $errors session(s) outside the bound"; exit 1; }

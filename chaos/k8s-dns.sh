#!/usr/bin/env bash
# DNS discovery as on Kubernetes: three test hosts (Linux network namespaces on a bridge,
# 10.78.0.0/24), each a node with HAZELCAST_KUBERNETES_SERVICE_DNS and no HAZELCAST_MEMBERS. The
# name plays a headless service: the JVM's hosts file (-Djdk.net.hosts.file) answers it with the
# three addresses, as a cluster DNS answers with the pods' IPs. The nodes must form one cluster of
# three bound to their own address only, see each other's charges, take a restarted node back
# through the same name, and a node given both a member list and a DNS name must refuse to start.
# Exit status 1 on any failure. Run as root from the repository root: chaos/k8s-dns.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source chaos/lib.sh

BRIDGE=duckk8s0
SUBNET=10.78.0
SERVICE=ducke-grid.ducke.svc.cluster.local
OUT=target/chaos/k8s-dns
HOSTS=$OUT/hosts

cleanup() {
    set +e
    for n in "${!NODE_PID[@]}"; do kill -9 "${NODE_PID[$n]}" 2>/dev/null; done
    for i in 1 2 3; do ip netns del "duckk$i" 2>/dev/null; ip link del "duckkv$i" 2>/dev/null; done
    ip link del "$BRIDGE" 2>/dev/null
    true
}
trap cleanup EXIT INT TERM

[ "$(id -u)" -eq 0 ] || fail "run as root (network namespaces)"
for t in java curl jq ip ss; do command -v "$t" >/dev/null || fail "$t is not installed"; done
[ -f "$JAR" ] || fail "$JAR is missing: build it with mvn -B package -DskipTests"
cleanup
rm -rf "$OUT" && mkdir -p "$OUT"

# --- the headless service's answer: one line per pod address for the same name
{
    echo "127.0.0.1 localhost"
    for i in 1 2 3; do echo "$SUBNET.1$i $SERVICE"; done
} >"$HOSTS"

# --- three hosts on one bridge
ip link add "$BRIDGE" type bridge
ip addr add "$SUBNET.1/24" dev "$BRIDGE"
ip link set "$BRIDGE" up
for i in 1 2 3; do
    ip netns add "duckk$i"
    ip link add "duckkv$i" type veth peer name "duckkp$i"
    ip link set "duckkp$i" netns "duckk$i"
    ip link set "duckkv$i" master "$BRIDGE" up
    ip netns exec "duckk$i" ip addr add "$SUBNET.1$i/24" dev "duckkp$i"
    ip netns exec "duckk$i" ip link set "duckkp$i" up
    ip netns exec "duckk$i" ip link set lo up
done

CLUSTER="chaos-k8s-dns-$$"
run() {  # run N: node n$N as a pod would run: the service name, a quorum of 2, no member list, no interface
    start_node "n$1" "$OUT/n$1.log" JAVA_TOOL_OPTIONS="-Djdk.net.hosts.file=$PWD/$HOSTS" \
        HAZELCAST_CLUSTER_NAME="$CLUSTER" HAZELCAST_KUBERNETES_SERVICE_DNS="$SERVICE" HAZELCAST_MIN_CLUSTER_SIZE=2 \
        DUCKE_DATA_DIR="$PWD/$OUT/n$1" DUCKE_DRAIN_TIMEOUT=10s
}
ready() { [ "$(${NODE_CMD[$1]} curl -s -o /dev/null -w '%{http_code}' -m 5 "${NODE_URL[$1]}/health/ready")" = 200 ]; }
exec 3>&2
# a node that exited stops the wait at once, with the end of its log
alive() { kill -0 "${NODE_PID[$1]}" 2>/dev/null || { tail -5 "$OUT/$1.log" >&3; log "FAIL: $1 exited" >&3; exit 1; }; }
three() { alive "$1" && members_are "$1" 3 && quorum_is "$1" true && metric_is "$1" cluster_members 3 && ready "$1"; }

for i in 1 2 3; do
    NODE_CMD[n$i]="ip netns exec duckk$i"
    NODE_URL[n$i]="http://127.0.0.1:8000"
done
started=$(now_ms)
for i in 1 2 3; do run "$i"; done
for i in 1 2 3; do wait_for 300 "n$i in one cluster of three, ready" three "n$i"; done
t_form=$(awk -v ms=$(( $(now_ms) - started )) 'BEGIN { printf "%.1f", ms / 1000 }')
log "three nodes found each other through $SERVICE: one cluster of 3 after ${t_form}s (cluster $CLUSTER)"

# --- each member bound its own address on the grid port, never the wildcard nor loopback
for i in 1 2 3; do
    # an IPv4 address on a dual-stack socket shows as [::ffff:a.b.c.d]
    listen=$(ip netns exec "duckk$i" ss -Hltn 'sport = :5701' | awk '{ print $4 }' | sed -E 's/^\[::ffff:(.*)\]/\1/' \
        | sort -u | tr '\n' ' ')
    [ "$listen" = "$SUBNET.1$i:5701 " ] || fail "n$i listens on the grid port at '$listen', expected $SUBNET.1$i:5701 only"
done
grep -q "Members {size:3" "$OUT/n1.log" || fail "n1's log shows no member list of three"
log "each node listens on its own address only ($SUBNET.11-13:5701)"

# --- a charge on one node is seen by the others
read -r code body < <(api n1 POST /v1/sessions '{"client_id":"client-k8s","model":"gpt-5"}')
[ "$code" = 201 ] || fail "session on n1: $code $body"
sid=$(jq -r .session_id <<<"$body")
read -r code body < <(api n2 POST "/v1/sessions/$sid/usage" "$REPORT")
[ "$code" = 200 ] || fail "usage on n2: $code $body"
cost_on() { [ "$(nano "$(api "$1" GET "/v1/sessions/$sid" | cut -d' ' -f2- | jq -r .cost_usd)")" = "$REPORT_NANO" ]; }
spend_on() { [ "$(nano "$(status_of "$1" | jq -r .hourly_cost_usd)")" = "$REPORT_NANO" ]; }
for n in n1 n2 n3; do wait_for 20 "$n sees the charge" cost_on "$n"; wait_for 20 "$n hourly spend" spend_on "$n"; done
log "session opened on n1, charged on n2: $(usd "$REPORT_NANO") USD on every node's ledger and hourly spend"

# --- a restarted node (a rescheduled pod) finds the cluster again through the name
read -r code body < <(api n3 DELETE "/v1/sessions/$sid")
[ "$code" = 200 ] || fail "end on n3: $code $body"
stop_node n3 TERM
wait_for 60 "n1 sees two members" members_are n1 2
wait_for 30 "n1 keeps its quorum" quorum_is n1 true
restarted=$(now_ms)
run 3
wait_for 300 "n3 back in one cluster of three" three n3
t_rejoin=$(awk -v ms=$(( $(now_ms) - restarted )) 'BEGIN { printf "%.1f", ms / 1000 }')
wait_for 20 "n3 sees the charge after its restart" cost_on n3
log "n3 stopped (SIGTERM) and started again: back in the cluster of 3 after ${t_rejoin}s, the charge still there"

# --- both ways to find members: refused at start-up, with the variables named
set +e
both=$(env HAZELCAST_MEMBERS="$SUBNET.11:5701" HAZELCAST_KUBERNETES_SERVICE_DNS="$SERVICE" HAZELCAST_MIN_CLUSTER_SIZE=2 \
    DUCKE_SERVICE_TOKEN="$SERVICE_TOKEN" DUCKE_OPERATOR_TOKEN="$OPERATOR_TOKEN" \
    java -jar "$JAR" check config.yml 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a node with HAZELCAST_MEMBERS and HAZELCAST_KUBERNETES_SERVICE_DNS was accepted"
grep -q "HAZELCAST_KUBERNETES_SERVICE_DNS) and HAZELCAST_MEMBERS (hazelcast.members) are both set" <<<"$both" \
    || fail "refusal without the expected message: $both"
log "a member list and a DNS name together: refused (exit $rc) naming both variables"

echo "== k8s-dns: 3 nodes found through $SERVICE (hosts-file DNS, no member list): one cluster of 3 after ${t_form}s from start"
echo "   grid bound to each node's own address; a charge on n2 seen on n1 and n3; n3 restarted rejoined in ${t_rejoin}s"
echo "   took ${SECONDS}s"

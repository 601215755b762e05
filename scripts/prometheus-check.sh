#!/usr/bin/env bash
# The monitoring check that runs without Docker: three nodes from target/duck-e.jar form one
# cluster on local ports, a real Prometheus (Debian's package) scrapes them with a configuration
# equivalent to the top-level prometheus.yml, traffic is driven through all three, and Prometheus's
# HTTP API must then show the cluster-wide sums the traffic implies and every metric the Grafana
# dashboard uses.
# Usage: scripts/prometheus-check.sh   (installs prometheus with apt-get if missing; builds the jar if missing)
set -uo pipefail
cd "$(dirname "$0")/.."

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT
failures=0
ok() { echo "  ok   $*"; }
bad() { echo "  FAIL $*"; failures=$((failures + 1)); }

if ! command -v prometheus >/dev/null; then
    echo "installing prometheus (Debian package)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1; }
    command -v prometheus >/dev/null || { echo "FAIL: prometheus could not be installed"; exit 1; }
fi
[ -f target/duck-e.jar ] || mvn -B -q package -DskipTests || { echo "FAIL: could not build the jar"; exit 1; }

read -r -a P <<<"$(python3 -c 'import socket
socks=[socket.socket() for _ in range(10)]
for s in socks: s.bind(("127.0.0.1",0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')"
APP=("${P[0]}" "${P[1]}" "${P[2]}"); ADMIN=("${P[3]}" "${P[4]}" "${P[5]}"); HZ=("${P[6]}" "${P[7]}" "${P[8]}"); PROM=${P[9]}
MEMBERS="127.0.0.1:${HZ[0]},127.0.0.1:${HZ[1]},127.0.0.1:${HZ[2]}"
SERVICE=check-service-token-0123456789
for i in 0 1 2; do
    mkdir -p "$WORK/node$i"
    env -u DATABASE_URL -u TRUSTED_PROXIES -u METRICS_ALLOW_FROM -u RATE_LIMIT_ENABLED \
        DUCKE_NODE_NAME="node-$((i + 1))" DUCKE_PORT="${APP[$i]}" DUCKE_ADMIN_PORT="${ADMIN[$i]}" \
        HAZELCAST_PORT="${HZ[$i]}" HAZELCAST_MEMBERS="$MEMBERS" HAZELCAST_INTERFACES=127.0.0.1 \
        HAZELCAST_CLUSTER_NAME="prom-check-$$" DUCKE_DATA_DIR="$WORK/node$i" OPENAI_API_KEY=check \
        DUCKE_SERVICE_TOKEN="$SERVICE" DUCKE_OPERATOR_TOKEN=check-operator-token-0123456789 \
        RATE_LIMIT_STATUS=10/minute UPSTREAM_ALLOWED_MODELS=gpt-realtime,gpt-5,gpt-5-mini \
        java -jar target/duck-e.jar server config.yml >"$WORK/node$i.log" 2>&1 &
    PIDS+=($!)
done

# Prometheus: the job of prometheus.yml, pointed at the local nodes, scraping every second
python3 - "$WORK/prometheus.yml" "${APP[@]}" <<'PY'
import re, sys
src = open("prometheus.yml").read()
job = re.search(r"job_name:\s*['\"]?([\w-]+)", src).group(1)
path = (re.search(r"metrics_path:\s*['\"]?(\S+?)['\"]?\s*$", src, re.M) or [None, "/metrics"])[1]
targets = ", ".join(f"'127.0.0.1:{p}'" for p in sys.argv[2:])
open(sys.argv[1], "w").write(f"""global:
  scrape_interval: 1s
scrape_configs:
  - job_name: '{job}'
    metrics_path: '{path}'
    static_configs:
      - targets: [{targets}]
""")
PY
JOB=$(sed -n "s/.*job_name: '\(.*\)'/\1/p" "$WORK/prometheus.yml")
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
    --web.listen-address="127.0.0.1:$PROM" >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)

status() { curl -s -m 2 -H "X-Forwarded-For: 10.0.$1.$2" "http://127.0.0.1:$3/status"; }
deadline=$((SECONDS + 120)); n=0
for i in 0 1 2; do
    until status 1 $((n++ % 250)) "${APP[$i]}" | grep -q '"cluster_members":3'; do
        [ $SECONDS -lt $deadline ] || { echo "FAIL: node $((i + 1)) did not join a cluster of 3"; tail -20 "$WORK/node$i.log"; exit 1; }
        sleep 0.5
    done
done
until curl -s -m 2 "http://127.0.0.1:$PROM/-/ready" | grep -qi ready; do
    [ $SECONDS -lt $deadline ] || { echo "FAIL: prometheus did not start"; tail -20 "$WORK/prometheus.log"; exit 1; }
    sleep 0.5
done
echo "== three nodes in one cluster, Prometheus on :$PROM"

# traffic: one client, 15 status requests round-robin over the nodes: 10 pass cluster-wide, 5 are refused
refused=0
for k in $(seq 0 14); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Forwarded-For: 203.0.113.5" "http://127.0.0.1:${APP[$((k % 3))]}/status")
    [ "$code" = 429 ] && refused=$((refused + 1))
done
[ "$refused" = 5 ] && ok "15 requests over 3 nodes: 5 refused (one limit of 10/minute for the whole cluster)" || bad "expected 5 refusals, got $refused"

# traffic: three sessions on three nodes, 7.00 + 4.00 + 10.50 = 21.50 USD
session() { # node model in out
    local id
    id=$(curl -s -X POST "http://127.0.0.1:$1/v1/sessions" -H "Authorization: Bearer $SERVICE" -H 'Content-Type: application/json' \
        -d "{\"client_id\":\"198.51.100.$RANDOM\",\"model\":\"$2\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["session_id"])')
    curl -s -o /dev/null -X POST "http://127.0.0.1:$1/v1/sessions/$id/usage" -H "Authorization: Bearer $SERVICE" \
        -H 'Content-Type: application/json' -d "{\"input_tokens\":$3,\"output_tokens\":$4}"
    echo "$id"
}
session "${APP[0]}" gpt-5 100000 200000 >/dev/null
id=$(session "${APP[1]}" gpt-5 40000 120000)
curl -s -o /dev/null -X DELETE "http://127.0.0.1:${APP[1]}/v1/sessions/$id" -H "Authorization: Bearer $SERVICE"
session "${APP[2]}" gpt-5-mini 1000000 500000 >/dev/null

query() { curl -s -G "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1" \
    | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")'; }
expect() { # promql expected description
    local got deadline=$((SECONDS + 30))
    while got=$(query "$1"); [ "$got" != "$2" ] && [ $SECONDS -lt $deadline ]; do sleep 1; done
    [ "$got" = "$2" ] && ok "$3: $1 = $got" || bad "$3: $1 = $got, expected $2"
}
echo "== Prometheus sees what the traffic implies"
expect "count(up{job=\"$JOB\"} == 1)" 3 "all three nodes scraped"
expect 'max(cluster_members)' 3 "one cluster of three"
expect 'sum(rate_limit_exceeded_total{endpoint="status"})' 5 "refusals summed over the nodes"
expect 'sum(api_cost_total_usd)' 21.5 "money summed over the nodes"
expect 'sum(api_cost_total_usd{model="gpt-5"})' 11 "money by model"
expect 'sum(token_usage_total{type="text_output"})' 820000 "tokens summed over the nodes"
expect 'sum(budget_exceeded_total{limit="session_cost"})' 2 "budget limits reached"

echo "== every dashboard metric exists in Prometheus"
for m in $(python3 scripts/dashboard_metrics.py grafana/dashboards/duck-e.json); do
    c=$(query "count({__name__=\"$m\"})")
    [ "$c" != none ] && [ "$c" != 0 ] && ok "$m ($c series)" || bad "$m is not in Prometheus"
done

if [ "$failures" -gt 0 ]; then echo "FAIL: prometheus-check ($failures problem(s))"; exit 1; fi
echo "PASS: prometheus-check"

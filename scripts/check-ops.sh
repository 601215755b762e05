#!/usr/bin/env bash
# Checks the operations kit without Docker:
#  - docker-compose.yml, prometheus.yml and the Grafana provisioning files parse as YAML,
#    the Grafana dashboard parses as JSON;
#  - the three node services exist with distinct host ports, and Prometheus scrapes exactly them
#    on their container port, path /metrics;
#  - every metric named in the dashboard's queries is exported by a real node: one node is started
#    from target/duck-e.jar on free local ports, given a little traffic (429s, sessions, usage,
#    a budget limit), and its /metrics is compared with the dashboard.
# Usage: scripts/check-ops.sh        (from anywhere; builds target/duck-e.jar if it is missing)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

failures=()
pass() { echo "  ok   $*"; }
fail() { echo "  FAIL $*"; failures+=("$*"); }

command -v python3 >/dev/null || { echo "FAIL: python3 is required"; exit 1; }

# ---------- 1. YAML and JSON ----------
echo "== files parse"
YAML_FILES=(docker-compose.yml prometheus.yml grafana/provisioning/datasources/prometheus.yml grafana/provisioning/dashboards/dashboards.yml)
yaml_tool=""
if python3 -c 'import yaml' 2>/dev/null; then yaml_tool=python
elif command -v ruby >/dev/null && ruby -ryaml -e '1' 2>/dev/null; then yaml_tool=ruby
fi
[ -n "$yaml_tool" ] || echo "  note: neither PyYAML nor ruby's yaml is available; YAML syntax is not checked, structure checks below are skipped"
for f in "${YAML_FILES[@]}"; do
    if [ ! -f "$f" ]; then fail "$f is missing"; continue; fi
    case "$yaml_tool" in
        python) if err=$(python3 -c 'import sys,yaml; yaml.safe_load(open(sys.argv[1]))' "$f" 2>&1); then pass "$f parses as YAML"; else fail "$f: $err"; fi ;;
        ruby) if err=$(ruby -ryaml -e 'YAML.load_file(ARGV[0], aliases: true) rescue YAML.load_file(ARGV[0])' "$f" 2>&1); then pass "$f parses as YAML"; else fail "$f: $err"; fi ;;
    esac
done
DASH=grafana/dashboards/duck-e.json
if [ -f "$DASH" ] && err=$(python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$DASH" 2>&1); then pass "$DASH parses as JSON"; else fail "$DASH does not parse: ${err:-missing}"; fi
[ -f Dockerfile ] && pass "Dockerfile present" || fail "Dockerfile is missing"

# ---------- 2. structure: compose services, ports, Prometheus targets, provisioning ----------
echo "== compose, Prometheus and Grafana consistency"
if [ "$yaml_tool" = python ]; then
    out=$(python3 - <<'PY'
import json, yaml, sys
problems, oks = [], []
c = yaml.safe_load(open("docker-compose.yml"))
svcs = c.get("services", {})
nodes = ["duck-e-1", "duck-e-2", "duck-e-3"]
host_ports = {}
for n in nodes:
    s = svcs.get(n)
    if s is None:
        problems.append(f"service {n} missing from docker-compose.yml"); continue
    env = s.get("environment", {})
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    if env.get("DUCKE_NODE_NAME") != n:
        problems.append(f"{n}: DUCKE_NODE_NAME is {env.get('DUCKE_NODE_NAME')!r}")
    members = [m.strip() for m in str(env.get("HAZELCAST_MEMBERS", "")).split(",") if m.strip()]
    if sorted(members) != sorted(f"{x}:5701" for x in nodes):
        problems.append(f"{n}: HAZELCAST_MEMBERS {members} does not list the three nodes on 5701")
    if str(env.get("DUCKE_PORT", "8000")) != "8000":
        problems.append(f"{n}: DUCKE_PORT is not 8000")
    if "postgres" not in str(env.get("DATABASE_URL", "")):
        problems.append(f"{n}: DATABASE_URL does not point at the postgres service")
    dep = s.get("depends_on", {})
    if not (isinstance(dep, dict) and dep.get("postgres", {}).get("condition") == "service_healthy"):
        problems.append(f"{n}: does not depend on postgres being healthy")
    for p in s.get("ports", []):
        parts = str(p).split(":")
        if parts[-1] == "8000":
            host_ports[n] = parts[-2]
    if n not in host_ports:
        problems.append(f"{n}: no host port published for container port 8000")
hp = list(host_ports.values())
if len(hp) == 3 and len(set(hp)) == 3:
    oks.append("three node services, distinct host ports " + ", ".join(f"{k}->{v}" for k, v in sorted(host_ports.items())))
else:
    problems.append(f"host ports not distinct: {host_ports}")
for s in ("postgres", "prometheus", "grafana"):
    if s not in svcs: problems.append(f"service {s} missing")
if "healthcheck" not in svcs.get("postgres", {}):
    problems.append("postgres has no healthcheck")
# no literal secrets: every password/token value comes from the environment, required or empty by default
for name, s in svcs.items():
    env = s.get("environment", {}) or {}
    if isinstance(env, list): env = dict(e.split("=", 1) for e in env)
    for k, v in env.items():
        if any(w in k for w in ("PASSWORD", "TOKEN", "API_KEY")):
            v = str(v)
            if not (v.startswith("${") and (":?" in v or v.endswith(":-}"))):
                problems.append(f"{name}: {k} is not a required environment variable ({v!r})")
oks.append("no default secrets in docker-compose.yml") if not any("required environment" in p for p in problems) else None
# Prometheus targets
pc = yaml.safe_load(open("prometheus.yml"))
jobs = [j for j in pc.get("scrape_configs", []) if j.get("job_name") == "duck-e"]
if not jobs:
    problems.append("prometheus.yml has no job duck-e")
else:
    j = jobs[0]
    targets = [t for sc in j.get("static_configs", []) for t in sc.get("targets", [])]
    if sorted(targets) != sorted(f"{n}:8000" for n in nodes):
        problems.append(f"Prometheus targets {targets} != compose nodes on container port 8000")
    else:
        oks.append("Prometheus targets = " + ", ".join(targets))
    if j.get("metrics_path", "/metrics") != "/metrics":
        problems.append(f"metrics_path is {j.get('metrics_path')}")
prom = svcs.get("prometheus", {})
if not any(str(v).startswith("./prometheus.yml:") for v in prom.get("volumes", [])):
    problems.append("prometheus service does not mount ./prometheus.yml")
# Grafana provisioning
ds = yaml.safe_load(open("grafana/provisioning/datasources/prometheus.yml"))
d0 = (ds.get("datasources") or [{}])[0]
if d0.get("uid") != "prometheus" or d0.get("url") != "http://prometheus:9090":
    problems.append(f"datasource uid/url wrong: {d0.get('uid')} {d0.get('url')}")
dp = yaml.safe_load(open("grafana/provisioning/dashboards/dashboards.yml"))
paths = [p.get("options", {}).get("path") for p in dp.get("providers", [])]
if "/var/lib/grafana/dashboards" not in paths:
    problems.append(f"dashboard provider path {paths}")
gvol = [str(v) for v in svcs.get("grafana", {}).get("volumes", [])]
if not any(v.startswith("./grafana/provisioning:") for v in gvol) or not any(v.startswith("./grafana/dashboards:/var/lib/grafana/dashboards") for v in gvol):
    problems.append(f"grafana volumes do not mount provisioning and dashboards: {gvol}")
dash = json.load(open("grafana/dashboards/duck-e.json"))
def walk(ps):
    for p in ps:
        yield p
        yield from walk(p.get("panels", []))
for p in walk(dash.get("panels", [])):
    for t in p.get("targets", []):
        if (t.get("datasource") or p.get("datasource") or {}).get("uid") != "prometheus":
            problems.append(f"panel {p.get('title')!r}: target not on datasource uid prometheus")
if not problems or all("datasource" not in x and "provider" not in x and "grafana" not in x for x in problems):
    oks.append("Grafana data source, dashboard provider and mounts consistent")
for o in oks:
    if o: print("OK " + o)
for p in problems:
    print("PROBLEM " + p)
PY
)
    while IFS= read -r line; do
        case "$line" in OK\ *) pass "${line#OK }";; PROBLEM\ *) fail "${line#PROBLEM }";; *) [ -n "$line" ] && fail "$line";; esac
    done <<<"$out"
else
    # fallback without a YAML parser: textual checks
    for n in duck-e-1 duck-e-2 duck-e-3; do
        grep -qE "^  $n:" docker-compose.yml && pass "service $n present (textual check)" || fail "service $n missing"
        grep -qE "^ *- *$n:8000" prometheus.yml && pass "Prometheus target $n:8000 (textual check)" || fail "Prometheus target $n:8000 missing"
    done
    ports=$(grep -oE '"80[0-9]{2}:8000"' docker-compose.yml | sort | uniq -d)
    [ -z "$ports" ] && pass "host ports distinct (textual check)" || fail "duplicate host ports: $ports"
fi

# ---------- 3. dashboard metrics against a real node ----------
echo "== dashboard metrics exist in a node's /metrics"
METRICS=$(python3 scripts/dashboard_metrics.py "$DASH")
if [ -z "$METRICS" ]; then
    fail "no metric names found in $DASH"
else
    echo "  dashboard uses: $(echo $METRICS)"
fi

JAR=target/duck-e.jar
stale=""
[ -f "$JAR" ] && stale=$(find pom.xml src/main -newer "$JAR" -type f 2>/dev/null | head -1)
if [ ! -f "$JAR" ] || [ -n "$stale" ]; then
    echo "  building $JAR (mvn -B -q package -DskipTests)${stale:+: $stale is newer than the jar}"
    mvn -B -q package -DskipTests || { fail "build failed"; }
fi

NODE_PID=""
WORK=$(mktemp -d)
cleanup() {
    if [ -n "$NODE_PID" ] && kill -0 "$NODE_PID" 2>/dev/null; then
        kill "$NODE_PID" 2>/dev/null
        for _ in $(seq 1 30); do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.5; done
        kill -9 "$NODE_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -f "$JAR" ] && [ -n "$METRICS" ]; then
    read -r APP_PORT ADMIN_PORT HZ_PORT < <(python3 -c '
import socket
ss=[socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1",0))
print(*[s.getsockname()[1] for s in ss])
for s in ss: s.close()')
    TOKEN=check-service-token-123456
    echo "  starting a node: app :$APP_PORT admin :$ADMIN_PORT grid :$HZ_PORT (log $WORK/node.log)"
    # a standalone node on the default H2 audit file: settings from the caller's environment that
    # would point it elsewhere (a database, other members) are removed
    env -u DATABASE_URL -u DATABASE_USER -u DATABASE_PASSWORD -u HAZELCAST_MEMBERS -u HAZELCAST_PUBLIC_ADDRESS \
        -u DUCKE_ADMIN_BIND_HOST -u METRICS_ALLOW_FROM -u TRUSTED_PROXIES -u RATE_LIMIT_ENABLED -u RATE_LIMIT_STATUS \
    DUCKE_PORT=$APP_PORT DUCKE_ADMIN_PORT=$ADMIN_PORT HAZELCAST_PORT=$HZ_PORT \
    HAZELCAST_INTERFACES=127.0.0.1 HAZELCAST_CLUSTER_NAME=check-$$ \
    DUCKE_NODE_NAME=check-ops DUCKE_DATA_DIR="$WORK/data" OPENAI_API_KEY=check \
    DUCKE_SERVICE_TOKEN=$TOKEN DUCKE_OPERATOR_TOKEN=check-operator-token-123456 \
    DUCKE_MIGRATIONS_DIR="$ROOT/migrations" \
        java -jar "$JAR" server config.yml >"$WORK/node.log" 2>&1 &
    NODE_PID=$!
    BASE=http://127.0.0.1:$APP_PORT
    up=""
    for _ in $(seq 1 120); do
        kill -0 "$NODE_PID" 2>/dev/null || break
        curl -fsS -o /dev/null "$BASE/status" 2>/dev/null && { up=1; break; }
        sleep 0.5
    done
    if [ -z "$up" ]; then
        fail "the node did not answer /status: $(grep -m1 -E 'ERROR|Exception|error' "$WORK/node.log" | cut -c1-200)"
        tail -20 "$WORK/node.log" | sed 's/^/       /'
    else
        pass "node up"
        # traffic: rate-limited /status requests
        n429=0
        for _ in $(seq 1 70); do
            code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/status")
            [ "$code" = 429 ] && n429=$((n429 + 1))
        done
        echo "  /status x70: $n429 answered 429"
        AUTH="Authorization: Bearer $TOKEN"
        # sessions with usage: one report within budget, then one over the session cap;
        # the client's fourth concurrent session is refused (concurrent_sessions)
        sid() { python3 -c 'import json,sys; print(json.load(sys.stdin).get("session_id",""))'; }
        ids=()
        for i in 1 2 3 4; do
            body=$(curl -s -X POST "$BASE/v1/sessions" -H "$AUTH" -H 'Content-Type: application/json' -d '{"client_id":"check-client"}')
            id=$(echo "$body" | sid 2>/dev/null)
            [ -n "$id" ] && ids+=("$id") || echo "  session $i refused (expected for the 4th): $body"
        done
        echo "  sessions opened: ${#ids[@]}"
        if [ "${#ids[@]}" -gt 0 ]; then
            r=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/v1/sessions/${ids[0]}/usage" -H "$AUTH" -H 'Content-Type: application/json' \
                -d '{"model":"gpt-realtime","input_tokens":3000,"output_tokens":1000,"input_token_details":{"text_tokens":1000,"audio_tokens":2000,"cached_tokens":500},"output_token_details":{"text_tokens":200,"audio_tokens":800}}')
            echo "  usage report: HTTP $r"
            r=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/v1/sessions/${ids[0]}/usage" -H "$AUTH" -H 'Content-Type: application/json' \
                -d '{"model":"gpt-realtime","input_tokens":60000,"output_tokens":0}')
            echo "  usage report over the session cap: HTTP $r"
            for id in "${ids[@]:1}"; do curl -s -o /dev/null -X DELETE "$BASE/v1/sessions/$id" -H "$AUTH"; done
        fi
        sleep 2   # let the reaper hand the ended sessions to the audit sink
        if curl -fsS "$BASE/metrics" -o "$WORK/metrics.txt"; then
            pass "/metrics fetched ($(grep -vc '^#' "$WORK/metrics.txt") samples)"
            # names exported: sample names, plus the family names of # TYPE lines
            { grep -v '^#' "$WORK/metrics.txt" | sed -E 's/[{ ].*//'; grep -E '^# TYPE ' "$WORK/metrics.txt" | awk '{print $3}'; } | sort -u >"$WORK/names.txt"
            missing=()
            for m in $METRICS; do
                if grep -qxF "$m" "$WORK/names.txt"; then
                    series=$(grep -cE "^$m(\{| )" "$WORK/metrics.txt")
                    pass "$m exported ($series series)"
                else
                    base=$(echo "$m" | sed -E 's/_(bucket|sum|count)$//')
                    if [ "$base" != "$m" ] && grep -qxF "$base" "$WORK/names.txt" && grep -qE "^$m(\{| )" "$WORK/metrics.txt"; then
                        pass "$m exported (histogram/summary $base)"
                    else
                        missing+=("$m")
                    fi
                fi
            done
            if [ "${#missing[@]}" -gt 0 ]; then
                fail "dashboard metrics missing from /metrics: ${missing[*]}"
            fi
        else
            fail "GET /metrics failed"
        fi
    fi
fi

echo
if [ "${#failures[@]}" -eq 0 ]; then
    echo "PASS: check-ops (files parse, compose/Prometheus/Grafana consistent, every dashboard metric exported)"
    exit 0
fi
echo "FAIL: check-ops, ${#failures[@]} problem(s):"
for f in "${failures[@]}"; do echo "  - $f"; done
exit 1

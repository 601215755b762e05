#!/usr/bin/env bash
# Frozen member: three nodes from target/duck-e.jar on loopback form one cluster; one is frozen
# with SIGSTOP while two load workers keep opening sessions (POST /v1/sessions) and reporting usage
# (POST /v1/sessions/{id}/usage) on the other two. Prints, per phase, how many requests were
# answered with which status and their latency (p50, p95, max): with a frozen member no request
# may wait much past the grid-call deadline (GRID_CALL_TIMEOUT). Two rounds:
#   1. freeze FREEZE_SECONDS, then SIGCONT: the member answers again and the cluster carries on;
#   2. freeze again, then kill -9 the frozen process: the two others settle as a cluster of two.
# Usage: chaos/frozen-member.sh   (from the repository root; builds the jar if missing)
# Settings: GRID_CALL_TIMEOUT (default 2s), FREEZE_SECONDS (default 20), KEEP_LOGS=1 keeps the node logs.
set -uo pipefail
cd "$(dirname "$0")/.."

GRID_CALL_TIMEOUT=${GRID_CALL_TIMEOUT:-2s}
FREEZE_SECONDS=${FREEZE_SECONDS:-20}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "node logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

[ -f target/duck-e.jar ] || mvn -B -q package -DskipTests || { echo "FAIL: could not build the jar"; exit 1; }
read -r -a P <<<"$(python3 -c 'import socket
socks=[socket.socket() for _ in range(9)]
for s in socks: s.bind(("127.0.0.1",0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')"
APP=("${P[0]}" "${P[1]}" "${P[2]}"); ADMIN=("${P[3]}" "${P[4]}" "${P[5]}"); HZ=("${P[6]}" "${P[7]}" "${P[8]}")
MEMBERS="127.0.0.1:${HZ[0]},127.0.0.1:${HZ[1]},127.0.0.1:${HZ[2]}"
TOKEN=chaos-service-token-0123456789

echo "== frozen member: 3 nodes, GRID_CALL_TIMEOUT=$GRID_CALL_TIMEOUT, freeze ${FREEZE_SECONDS}s =="
for i in 0 1 2; do
    mkdir -p "$WORK/node$i"
    env -u DATABASE_URL -u TRUSTED_PROXIES -u RATE_LIMIT_ENABLED -u HAZELCAST_PUBLIC_ADDRESS \
        DUCKE_NODE_NAME="node-$((i + 1))" DUCKE_PORT="${APP[$i]}" DUCKE_ADMIN_PORT="${ADMIN[$i]}" \
        HAZELCAST_PORT="${HZ[$i]}" HAZELCAST_MEMBERS="$MEMBERS" HAZELCAST_INTERFACES=127.0.0.1 \
        HAZELCAST_CLUSTER_NAME="frozen-$$" DUCKE_DATA_DIR="$WORK/node$i" OPENAI_API_KEY=chaos \
        DUCKE_SERVICE_TOKEN="$TOKEN" DUCKE_OPERATOR_TOKEN=chaos-operator-token-0123456789 \
        GRID_CALL_TIMEOUT="$GRID_CALL_TIMEOUT" RATE_LIMIT_WEBSOCKET=1000000/minute RATE_LIMIT_DEFAULT=1000000/minute \
        RATE_LIMIT_STATUS=1000000/minute COST_PROTECTION_MAX_CONCURRENT_SESSIONS=1000 \
        COST_PROTECTION_MAX_TOTAL_COST_PER_HOUR_USD=1000000 COST_PROTECTION_CIRCUIT_BREAKER_THRESHOLD_USD=1000000 \
        java -jar target/duck-e.jar server config.yml >"$WORK/node$i.log" 2>&1 &
    PIDS+=($!)
done

members() { curl -s -m 2 "http://127.0.0.1:$1/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["cluster_members"])' 2>/dev/null || echo "-"; }
await_members() { # port count deadline-seconds → prints seconds waited, or fails
    local start=$SECONDS
    while [ "$(members "$1")" != "$2" ]; do
        [ $((SECONDS - start)) -ge "$3" ] && { echo "FAIL"; return 1; }
        sleep 0.5
    done
    echo $((SECONDS - start))
}
for i in 0 1 2; do
    w=$(await_members "${APP[$i]}" 3 600) || { echo "FAIL: node-$((i + 1)) did not see 3 members"; tail -5 "$WORK/node$i.log"; exit 1; }
done
echo "cluster of 3 formed"

# Load: one worker per surviving node; each opens a session and reports usage on it, in a loop.
# Lines "phase kind status seconds" go to $WORK/requests.
python3 - "$WORK" "$TOKEN" "${APP[0]}" "${APP[1]}" <<'PY' &
import json, sys, threading, time, urllib.request, urllib.error, os
work, token, ports = sys.argv[1], sys.argv[2], sys.argv[3:]
out = open(os.path.join(work, "requests"), "a", buffering=1)
lock = threading.Lock()
def phase():
    try:
        return open(os.path.join(work, "phase")).read().strip()
    except OSError:
        return "baseline"
def call(url, body):
    req = urllib.request.Request(url, json.dumps(body).encode(), {"Authorization": "Bearer " + token,
                                                               "Content-Type": "application/json"})
    t = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.load(r), time.monotonic() - t
    except urllib.error.HTTPError as e:
        return e.code, None, time.monotonic() - t
    except Exception:
        return 0, None, time.monotonic() - t
def worker(port, n):
    i = 0
    while not os.path.exists(os.path.join(work, "stop")):
        p = phase(); i += 1
        code, body, s = call(f"http://127.0.0.1:{port}/v1/sessions", {"client_id": f"chaos-{n}-{i}"})
        with lock: out.write(f"{p} start {code} {s:.4f}\n")
        if code == 201:
            code, _, s = call(f"http://127.0.0.1:{port}/v1/sessions/{body['session_id']}/usage",
                              {"model": "gpt-5", "input_tokens": 1000, "output_tokens": 500})
            with lock: out.write(f"{p} usage {code} {s:.4f}\n")
threads = [threading.Thread(target=worker, args=(p, n)) for n, p in enumerate(ports)]
for t in threads: t.start()
for t in threads: t.join()
PY
LOAD=$!
PIDS+=($LOAD)
phase() { echo "$1" >"$WORK/phase"; echo "-- $(date +%T) phase: $1"; }

phase baseline; sleep 15
phase "frozen-1"; kill -STOP "${PIDS[2]}"; sleep "$FREEZE_SECONDS"
kill -CONT "${PIDS[2]}"; phase "resumed"
echo "   members after SIGCONT: node-1 $(members "${APP[0]}"), node-3 $(members "${APP[2]}")"
for i in 0 1 2; do
    w=$(await_members "${APP[$i]}" 3 300) && echo "   node-$((i + 1)) sees 3 members ${w}s after SIGCONT" \
        || echo "   node-$((i + 1)) does not see 3 members 300s after SIGCONT"
done
sleep 10
phase "frozen-2"; kill -STOP "${PIDS[2]}"; sleep "$FREEZE_SECONDS"
kill -KILL "${PIDS[2]}"; phase "killed"
for i in 0 1; do
    w=$(await_members "${APP[$i]}" 2 300) && echo "   node-$((i + 1)) sees 2 members ${w}s after kill -9" \
        || echo "   node-$((i + 1)) does not see 2 members 300s after kill -9"
done
sleep 15
phase "settled"; sleep 15
touch "$WORK/stop"; wait "$LOAD" 2>/dev/null

echo "== requests on the two other nodes, by phase (latency in seconds) =="
python3 - "$WORK/requests" "$GRID_CALL_TIMEOUT" <<'PY'
import sys, collections
rows = collections.OrderedDict()
for line in open(sys.argv[1]):
    p, kind, code, s = line.split()
    rows.setdefault((p, kind), []).append((code, float(s)))
def q(xs, f):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(f * len(xs)))]
print(f"{'phase':10} {'request':6} {'n':>5} {'statuses':28} {'p50':>6} {'p95':>6} {'max':>6}")
worst = 0.0
for (p, kind), v in rows.items():
    codes = collections.Counter(c for c, _ in v)
    lat = [s for _, s in v]
    if p.startswith("frozen"):
        worst = max(worst, max(lat))
    st = " ".join(f"{c}:{n}" for c, n in sorted(codes.items()))
    print(f"{p:10} {kind:6} {len(v):5} {st:28} {q(lat, .5):6.3f} {q(lat, .95):6.3f} {max(lat):6.3f}")
print(f"slowest request while a member was frozen: {worst:.3f} s (grid-call deadline {sys.argv[2]})")
PY
grep -h "cluster_degraded" "$WORK"/node0.log "$WORK"/node1.log | head -2 | cut -c1-220

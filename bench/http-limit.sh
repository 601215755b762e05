#!/usr/bin/env bash
# What the HTTP rate limiter costs per request, next to nginx's limit_req in the same run.
#
# Starts three lone nodes of the service (rate limiting off; on with a limit no client reaches, so
# every request is allowed through the grid; on with 1/hour after one request, so every request is
# refused) and one nginx serving the same /status JSON with limit_req off / passing / refusing.
# Then runs `wrk -t1 -c32 -d$DURATION` against each target $RUNS times, interleaved, each run
# after the machine was >= 90 % idle over 5 s, prints a table and ends with one summary line:
#   summary: on_off_ratio=… deny_off_ratio=… nginx_on_off_ratio=… duck_off_vs_nginx_off=…
# (ratios of the mean requests/s over the runs of each target).
#
# Run from the repository root: bench/http-limit.sh
# Environment: DURATION (10s), RUNS (2), CONNECTIONS (32), JAR (target/duck-e.jar),
#   WARMUP (60s) and WARMUP_MAX (300s): each node of the service is loaded in 10 s steps for at least
#   WARMUP and until two steps in a row differ by less than WARMUP_SPREAD percent (3), at most WARMUP_MAX
#   (on 2 cores the JIT compiler is still at work minutes after start),
#   JAVA_OPTS (empty: the JVM's defaults), IDLE_PERCENT (90), IDLE_WAIT_MAX (120 seconds per run).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-60s}
WARMUP_MAX=${WARMUP_MAX:-300s}
WARMUP_SPREAD=${WARMUP_SPREAD:-3}
RUNS=${RUNS:-2}
CONNECTIONS=${CONNECTIONS:-32}
JAR=${JAR:-target/duck-e.jar}
JAVA_OPTS=${JAVA_OPTS:-}
IDLE_PERCENT=${IDLE_PERCENT:-90}
IDLE_WAIT_MAX=${IDLE_WAIT_MAX:-120}

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

for t in java curl wrk nginx awk ss; do
    command -v "$t" >/dev/null || fail "$t is not installed (Debian: apt-get install -y nginx wrk curl)"
done
if [ ! -f "$JAR" ]; then
    log "building $JAR"
    mvn -B -q package -DskipTests
fi

WORK=$(mktemp -d)
declare -a PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

FREE_PORTS_TAKEN="$WORK/ports-taken"
source scripts/free-port.sh

# percent of CPU time idle over the next 5 s, from /proc/stat
idle_percent() {
    local a b
    a=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    sleep 5
    b=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
        t = y[2] - x[2]; printf "%d", (t > 0 ? 100 * (y[1] - x[1]) / t : 0) }'
}

# waits until the machine is idle enough; IDLE = the last idle percent seen
wait_for_idle() {
    local start=$SECONDS
    while :; do
        IDLE=$(idle_percent)
        [ "$IDLE" -ge "$IDLE_PERCENT" ] && return
        if [ $(( SECONDS - start )) -ge "$IDLE_WAIT_MAX" ]; then
            log "machine still busy (${IDLE} % idle) after ${IDLE_WAIT_MAX}s; measuring anyway"
            return
        fi
    done
}

# start_node NAME ENV... : a lone node on free ports with its own data directory; URL[NAME] its base URL
declare -A URL PID_OF
start_node() {
    local name=$1; shift
    local app hz; app=$(free_port); hz=$(free_port)
    mkdir -p "$WORK/$name"
    # shellcheck disable=SC2086
    env "$@" DUCKE_NODE_NAME="$name" DUCKE_PORT="$app" DUCKE_ADMIN_PORT=$((app + 1)) HAZELCAST_PORT="$hz" \
        HAZELCAST_MEMBERS= HAZELCAST_CLUSTER_NAME="bench-$name-$$" DUCKE_DATA_DIR="$WORK/$name" \
        OPENAI_API_KEY=bench-key \
        java $JAVA_OPTS -jar "$JAR" server config.yml >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    PID_OF[$name]=$!
    URL[$name]="http://127.0.0.1:$app/status"
}

wait_up() {
    local name=$1 i
    for i in $(seq 120); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "${URL[$name]}" 2>/dev/null)" = 200 ] && return
        sleep 0.5
    done
    tail -20 "$WORK/$name.log" >&2
    fail "node $name did not answer /status within 60 s"
}

log "starting three nodes (limits off / every request allowed / every request refused)"
start_node duck_off RATE_LIMIT_ENABLED=false
start_node duck_on RATE_LIMIT_ENABLED=true RATE_LIMIT_STATUS=1000000000/minute
start_node duck_deny RATE_LIMIT_ENABLED=true RATE_LIMIT_STATUS=1/hour
for n in duck_off duck_on duck_deny; do wait_up "$n"; done
# duck_deny: its one request was spent by wait_up; from now on every request is refused
[ "$(curl -s -o /dev/null -w '%{http_code}' "${URL[duck_deny]}")" = 429 ] || fail "duck_deny does not refuse"

# nginx serves the same JSON the service answers (as a file: limit_req runs before the content
# phase, but after a `return`), from a prefix of its own
NG="$WORK/nginx"
mkdir -p "$NG/logs"
curl -s "${URL[duck_off]}" >"$NG/status.json"
ngport_off=$(free_port); ngport_on=$(free_port); ngport_deny=$(free_port)
cat >"$NG/nginx.conf" <<EOF
user root;
worker_processes auto;
daemon off;
pid $NG/nginx.pid;
error_log $NG/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $NG/body;
    proxy_temp_path $NG/proxy;
    fastcgi_temp_path $NG/fastcgi;
    uwsgi_temp_path $NG/uwsgi;
    scgi_temp_path $NG/scgi;
    default_type application/json;
    limit_req_zone \$binary_remote_addr zone=pass:10m rate=1000000r/s;
    limit_req_zone \$binary_remote_addr zone=deny:10m rate=1r/m;
    limit_req_status 429;
    server {
        listen 127.0.0.1:$ngport_off;
        location = /status { alias $NG/status.json; }
    }
    server {
        listen 127.0.0.1:$ngport_on;
        location = /status { limit_req zone=pass burst=1000000 nodelay; alias $NG/status.json; }
    }
    server {
        listen 127.0.0.1:$ngport_deny;
        error_page 429 = @limited;
        location = /status { limit_req zone=deny; alias $NG/status.json; }
        location @limited {
            add_header Retry-After 60 always;
            return 429 '{"code":429,"error":"rate_limit_exceeded","message":"Too many requests","endpoint":"status","limit":"1 per 1 minute","retry_after_seconds":60}';
        }
    }
}
EOF
nginx -p "$NG" -e "$NG/logs/error.log" -c "$NG/nginx.conf" &
PIDS+=($!)
for n in nginx_off nginx_on nginx_deny; do PID_OF[$n]=$!; done
URL[nginx_off]="http://127.0.0.1:$ngport_off/status"
URL[nginx_on]="http://127.0.0.1:$ngport_on/status"
URL[nginx_deny]="http://127.0.0.1:$ngport_deny/status"
for n in nginx_off nginx_on nginx_deny; do wait_up "$n"; done
[ "$(curl -s -o /dev/null -w '%{http_code}' "${URL[nginx_deny]}")" = 429 ] || fail "nginx_deny does not refuse"

TARGETS=(duck_off duck_on duck_deny nginx_off nginx_on nginx_deny)

# cpu_ticks NAME : CPU time (user + system, clock ticks) of the target's process and its children (nginx workers)
cpu_ticks() {
    local p sum=0
    for p in "${PID_OF[$1]}" $(pgrep -P "${PID_OF[$1]}" 2>/dev/null); do
        sum=$(( sum + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0) ))
    done
    echo "$sum"
}
TICK=$(getconf CLK_TCK)

# run_wrk NAME SECONDS : prints "requests_per_second non_2xx total"
run_wrk() {
    local out
    out=$(wrk -t1 -c"$CONNECTIONS" -d"$2" "${URL[$1]}")
    printf '%s\n' "$out" > "$WORK/wrk-$1.last"
    awk '/^Requests\/sec:/ { rps = $2 } /Non-2xx or 3xx responses:/ { bad = $NF }
         / requests in / { total = $1 } END { printf "%s %d %d\n", rps, bad, total }' <<<"$out"
}

seconds() { local v=${1%s}; echo "${v%%[!0-9]*}"; }

# warm_up NAME : 10 s steps for at least WARMUP, then until two steps in a row are within WARMUP_SPREAD %
warm_up() {
    local n=$1 spent=0 last=0 rps rest min max steps=""
    min=$(seconds "$WARMUP"); max=$(seconds "$WARMUP_MAX")
    while :; do
        read -r rps rest < <(run_wrk "$n" 10s)
        spent=$((spent + 10)); steps="$steps ${rps%.*}"
        if [ "$spent" -ge "$min" ] && awk -v a="$last" -v b="$rps" -v p="$WARMUP_SPREAD" \
            'BEGIN { exit !(a > 0 && (a > b ? a - b : b - a) * 100 <= p * a) }'; then
            log "  $n warm after ${spent}s (requests/s per 10 s step:$steps)"
            return
        fi
        if [ "$spent" -ge "$max" ]; then
            log "  WARNING: $n still changing after ${spent}s (requests/s per 10 s step:$steps)"
            return
        fi
        last=$rps
    done
}

log "warm-up: each node of the service until its rate is steady (${WARMUP}..${WARMUP_MAX}), 3s per nginx port"
for n in "${TARGETS[@]}"; do
    case $n in duck_*) warm_up "$n" ;; *) run_wrk "$n" 3s >/dev/null ;; esac
done

declare -A SUM CPU
# cpu_us/req: CPU time of the serving process(es) during the run divided by the requests; less
# sensitive to other load on the machine than requests/s (wrk's own CPU is not included)
printf '%-11s %4s %12s %10s %10s %11s %7s\n' target run requests/s requests non-2xx cpu_us/req idle%
for r in $(seq "$RUNS"); do
    for n in "${TARGETS[@]}"; do
        wait_for_idle
        before=$(cpu_ticks "$n")
        read -r rps bad total < <(run_wrk "$n" "$DURATION")
        cpu_us=$(awk -v t=$(( $(cpu_ticks "$n") - before )) -v hz="$TICK" -v n="$total" \
            'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
        printf '%-11s %4d %12.0f %10d %10d %11s %7d\n' "$n" "$r" "$rps" "$total" "$bad" "$cpu_us" "$IDLE"
        case $n in
            # nginx's slowest rate is 1r/m: it lets one request a minute through
            *_deny) [ $((total - bad)) -le 1 ] || log "WARNING: $n answered $((total - bad)) requests with 2xx" ;;
            *) [ "$bad" -eq 0 ] || log "WARNING: $n answered $bad requests with non-2xx" ;;
        esac
        SUM[$n]=$(awk -v a="${SUM[$n]:-0}" -v b="$rps" 'BEGIN { print a + b }')
        CPU[$n]=$(awk -v a="${CPU[$n]:-0}" -v b="$cpu_us" 'BEGIN { print a + b }')
    done
done

mean() { awk -v s="${SUM[$1]}" -v n="$RUNS" 'BEGIN { print s / n }'; }
ratio() { awk -v a="$(mean "$1")" -v b="$(mean "$2")" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
echo
printf 'mean requests/s:'
for n in "${TARGETS[@]}"; do printf ' %s=%.0f' "$n" "$(mean "$n")"; done
echo
printf 'mean cpu_us/req:'
for n in "${TARGETS[@]}"; do printf ' %s=%.1f' "$n" "$(awk -v s="${CPU[$n]}" -v n="$RUNS" 'BEGIN { print s / n }')"; done
echo
echo "summary: on_off_ratio=$(ratio duck_on duck_off) deny_off_ratio=$(ratio duck_deny duck_off)" \
    "nginx_on_off_ratio=$(ratio nginx_on nginx_off) duck_off_vs_nginx_off=$(ratio duck_off nginx_off)"

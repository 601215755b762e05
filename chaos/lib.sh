# Shared helpers of the chaos scripts: sourced, never run. Nodes run the fat jar from the
# repository root; every figure is printed by the script that measures it.

JAR=target/duck-e.jar
SERVICE_TOKEN="chaos-service-token-0123456789"
OPERATOR_TOKEN="chaos-operator-token-0123456789"
# gpt-5 at 10 and 30 USD per million tokens: 1,000 in and 2,000 out cost 0.07 USD
REPORT='{"model":"gpt-5","input_tokens":1000,"output_tokens":2000}'
REPORT_NANO=70000000

log() { printf '%s %s\n' "$(date +%T)" "$*"; }
fail() { log "FAIL: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }

require_root_tools() {
    [ "$(id -u)" -eq 0 ] || fail "run as root"
    for t in java curl jq psql; do command -v "$t" >/dev/null || fail "$t is not installed"; done
    [ -f "$JAR" ] || fail "$JAR is missing: build it with mvn -B package -DskipTests"
    pg_isready -q -h 127.0.0.1 -p 5432 || fail "PostgreSQL is not running on 127.0.0.1:5432"
}

# psql against the test database; prints unaligned rows
pg() { psql -h 127.0.0.1 -U postgres -d test -qAtX -v ON_ERROR_STOP=1 -c "$1"; }

# A fresh schema of its own in the test database: the audit store of one run
new_schema() {
    SCHEMA="chaos_$1_$(date +%s)_$$"
    pg "CREATE SCHEMA $SCHEMA" >/dev/null
}

drop_schema() { [ -n "${SCHEMA:-}" ] && pg "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1; true; }

# How to reach a node: NODE_CMD[name] prefixes curl (e.g. "ip netns exec duck1"), NODE_URL[name] its base URL
declare -A NODE_CMD NODE_URL NODE_PID

# api NODE METHOD PATH [BODY] -> prints "STATUS BODY" (one line)
api() {
    local node=$1 method=$2 path=$3 body=${4:-}
    local args=(-s -m 10 -o - -w '\n%{http_code}' -X "$method" -H "Authorization: Bearer $SERVICE_TOKEN")
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
    local out
    out=$(${NODE_CMD[$node]} curl "${args[@]}" "${NODE_URL[$node]}$path" 2>/dev/null) || out=$'\n000'
    printf '%s %s\n' "${out##*$'\n'}" "$(printf '%s' "${out%$'\n'*}" | tr -d '\n')"
}

status_of() { ${NODE_CMD[$1]} curl -s -m 5 "${NODE_URL[$1]}/status" 2>/dev/null; }

# metric NODE NAME [LABELS] -> the sample's value, 0 when absent
metric() {
    local sel=$2; [ -n "${3:-}" ] && sel="$2{$3}"
    ${NODE_CMD[$1]} curl -s -m 5 "${NODE_URL[$1]}/metrics" 2>/dev/null \
        | awk -v s="$sel" '$1 == s { v = $2 } END { print (v == "" ? 0 : v + 0) }'
}

# wait_for SECONDS DESCRIPTION COMMAND... : polls until the command succeeds; WAITED = the seconds it took
wait_for() {
    local limit=$1 what=$2; shift 2
    local start; start=$(now_ms)
    while ! "$@" >/dev/null 2>&1; do
        [ $(( $(now_ms) - start )) -gt $(( limit * 1000 )) ] && fail "$what: not within ${limit}s"
        sleep 0.2
    done
    WAITED=$(awk -v ms=$(( $(now_ms) - start )) 'BEGIN { printf "%.1f", ms / 1000 }')
}

members_are() { [ "$(status_of "$1" | jq -r .cluster_members)" = "$2" ]; }
quorum_is() { [ "$(status_of "$1" | jq -r .cluster_quorum)" = "$2" ]; }
metric_is() { awk -v a="$(metric "$1" "$2" "${4:-}")" -v b="$3" 'BEGIN { exit !(a + 0 == b + 0) }'; }

# start_node NAME LOGFILE ENV... : starts the jar (through NODE_CMD) in the background, with
# CONFIG (default config.yml) as its configuration file
start_node() {
    local name=$1 logfile=$2; shift 2
    # shellcheck disable=SC2086
    env "$@" DUCKE_NODE_NAME="$name" DUCKE_SERVICE_TOKEN="$SERVICE_TOKEN" DUCKE_OPERATOR_TOKEN="$OPERATOR_TOKEN" \
        RATE_LIMIT_DEFAULT=1000000/minute RATE_LIMIT_STATUS=1000000/minute RATE_LIMIT_WEBSOCKET=1000000/minute \
        UPSTREAM_ALLOWED_MODELS=gpt-realtime,gpt-5 \
        ${NODE_CMD[$name]} java -Xmx384m -jar "$JAR" server "${CONFIG:-config.yml}" >"$logfile" 2>&1 &
    NODE_PID[$name]=$!
    disown "$!"
}

# usd NANO -> decimal dollars with nine places
usd() { awk -v n="$1" 'BEGIN { printf "%.9f", n / 1e9 }'; }
# nano DECIMAL -> integer nano-dollars
nano() { awk -v d="$1" 'BEGIN { printf "%.0f", d * 1e9 }'; }

# free_port -> a TCP port (and the one above it) for a node: scripts/free-port.sh
source scripts/free-port.sh

# loopback_nodes COUNT OUTDIR CLUSTER : NODE_URL/NODE_ENV for n1..nCOUNT on 127.0.0.1, sharing the audit schema
declare -A NODE_ENV
loopback_nodes() {
    local count=$1 out=$2 cluster=$3 members="" i
    declare -A hz
    for i in $(seq "$count"); do hz[$i]=$(free_port); members="$members${members:+,}127.0.0.1:${hz[$i]}"; done
    for i in $(seq "$count"); do
        local app; app=$(free_port)
        NODE_CMD[n$i]=""
        NODE_URL[n$i]="http://127.0.0.1:$app"
        NODE_ENV[n$i]="DUCKE_PORT=$app DUCKE_ADMIN_PORT=$((app + 1)) HAZELCAST_PORT=${hz[$i]} HAZELCAST_MEMBERS=$members \
HAZELCAST_INTERFACES=127.0.0.1 HAZELCAST_CLUSTER_NAME=$cluster DUCKE_DATA_DIR=$out/n$i \
DATABASE_URL=jdbc:postgresql://127.0.0.1:5432/test?currentSchema=$SCHEMA DATABASE_USER=postgres"
    done
}

# run_node NAME LOGFILE : (re)starts a node made by loopback_nodes
run_node() {
    # shellcheck disable=SC2086
    start_node "$1" "$2" ${NODE_ENV[$1]}
}

# stop_node NAME SIGNAL : signals the node and waits until its process is gone
stop_node() {
    kill "-$2" "${NODE_PID[$1]}" 2>/dev/null || true
    local i
    for i in $(seq 600); do kill -0 "${NODE_PID[$1]}" 2>/dev/null || { unset "NODE_PID[$1]"; return 0; }; sleep 0.2; done
    fail "$1 did not exit after SIG$2"
}

up() { [ "$(status_of "$1" | jq -r .status)" = ok ]; }

# (every script's cleanup ends with it: the list of ports handed out goes too)
kill_all_nodes() { for n in "${!NODE_PID[@]}"; do kill -9 "${NODE_PID[$n]}" 2>/dev/null; done; rm -f "$FREE_PORTS_TAKEN"; }

# audit_row SESSION -> "cost|responses|end_reason|open" of its row, or nothing
audit_row() { pg "SELECT cost_usd, charged_responses, end_reason, is_open FROM $SCHEMA.audit_sessions WHERE session_id = '$1'"; }

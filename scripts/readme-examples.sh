#!/usr/bin/env bash
# README.md's examples are contracts: this runs them as a newcomer would and fails when one fails.
#
# Every ```sh block of the README carries a marker comment right above it:
#   <!-- readme-examples: node -->     the quick start: run line by line; the build only when the jar
#                                      is stale, the node in the background (free ports, a temporary
#                                      DUCKE_DATA_DIR), then wait until it serves
#   <!-- readme-examples: run -->      each command runs in one shell (variables carry over), against
#                                      that node: `localhost:8000` and `127.0.0.1:8081` point at its ports
#   <!-- readme-examples: cluster -->  the three-node recipe, run last, as written, in a scratch
#                                      directory (skipped when one of its ports is in use)
#   <!-- readme-examples: skip (why) --> not run here (the reason says what covers it)
# A command ending in `# → 201` must have its last curl answer 201; `# → exit 1` must exit 1; any other
# command must exit 0 with a 2xx answer. A ```json block marked `status-schema` must list exactly the
# fields of the node's GET /status; a ```text block marked `output` must appear in the output of the
# example before it; a ```yaml block marked `config-prices` must equal config.yml's prices. A ```sh
# block without a marker fails the check.
# Usage: scripts/readme-examples.sh [README.md]     (from anywhere; needs curl, jq and python3)
set -uo pipefail
cd "$(dirname "$0")/.."
README=${1:-README.md}

for tool in curl jq python3 java; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is required"; exit 1; }
done

WORK=$(mktemp -d)
NODE_PID=""
CLUSTER_PIDS=""
# SIGTERM (a node leaves gracefully), then SIGKILL after 30 s
stop_pids() {
    [ $# -gt 0 ] || return 0
    kill "$@" 2>/dev/null
    for _ in $(seq 1 60); do kill -0 "$@" 2>/dev/null || return 0; sleep 0.5; done
    kill -9 "$@" 2>/dev/null
}
cleanup() {
    # shellcheck disable=SC2086
    stop_pids $NODE_PID $CLUSTER_PIDS
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r APP_PORT ADMIN_PORT HZ_PORT < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])
for s in ss: s.close()')

# ---------- the README, turned into a script of calls to the functions below ----------
python3 - "$README" "$APP_PORT" "$ADMIN_PORT" >"$WORK/examples.sh" <<'PY' || { echo "FAIL: $README cannot be read"; exit 1; }
import re, shlex, sys
readme, app, admin = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(readme, encoding="utf-8").read().split("\n")
out, deferred, marker, i, problems = [], [], None, 0, []
def q(s): return shlex.quote(s)
def commands(block, first_line):
    """(line number, command text) per command: continuation lines joined, comment-only lines dropped."""
    cmd, start = [], None
    for n, line in enumerate(block, first_line):
        if not cmd and (not line.strip() or line.lstrip().startswith("#")):
            continue
        start = start or n
        cmd.append(line)
        if not line.rstrip().endswith("\\"):
            yield start, "\n".join(cmd)
            cmd, start = [], None
    if cmd:
        yield start, "\n".join(cmd)
def localise(text):
    return text.replace("localhost:8000", "localhost:" + app).replace("127.0.0.1:8081", "127.0.0.1:" + admin)
while i < len(lines):
    m = re.match(r"\s*<!--\s*readme-examples:\s*([a-z-]+)(.*?)-->", lines[i])
    if m:
        marker = m.group(1)
        i += 1
        continue
    fence = re.match(r"```(\w*)\s*$", lines[i])
    if not fence:
        if lines[i].strip():
            marker = None
        i += 1
        continue
    lang, start = fence.group(1), i + 1
    end = start
    while end < len(lines) and not lines[end].startswith("```"):
        end += 1
    block = lines[start:end]
    i = end + 1
    if lang == "sh" and marker is None:
        problems.append(f"{readme}:{start}: a sh block without a readme-examples marker")
    elif marker == "node":
        for n, cmd in commands(block, start + 1):
            out.append(f"node_command {n} {q(cmd)}")
        out.append("await_node")
    elif marker == "run":
        for n, cmd in commands(block, start + 1):
            exp = re.search(r"#\s*→\s*(exit \d+|\d{3})", cmd)
            out.append(f"begin_example {n} {q(exp.group(1) if exp else '')} {q(cmd)}")
            out.append("{ " + localise(cmd) + "\n} >\"$EXAMPLE_OUT\" 2>&1")
            out.append("end_example $?")
    elif marker == "cluster":
        # run last: it needs the quick-start node stopped, and every other example needs that node
        calls = [l for l in block if l.startswith("curl ")]
        setup = "\n".join(l for l in block if not l.startswith("curl "))
        deferred.append(f"cluster_block {start + 1} {q(setup)} {q(calls[0] if calls else '')}")
    elif marker == "config-prices":
        out.append(f"check_prices {start + 1} {q(chr(10).join(block))}")
    elif marker == "status-schema":
        out.append(f"check_status_schema {start + 1} {q(chr(10).join(block))}")
    elif marker == "output":
        out.append(f"check_output {start + 1} {q(chr(10).join(block))}")
    marker = None
out.extend(deferred)
for p in problems:
    out.append(f"problem {q(p)}")
print("\n".join(out))
PY

# ---------- what the generated script calls ----------
failures=()
examples=0
STATUS_LOG="$WORK/status.log"
EXAMPLE_OUT="$WORK/example.out"
LAST_OUT="$WORK/last.out"
: >"$LAST_OUT"

problem() { echo "  FAIL $1"; failures+=("$1"); }

# curl as written, its answer's status appended to $STATUS_LOG (a README example never uses -w itself)
curl() { command curl -w '%{stderr}%{http_code}\n' "$@" 2>>"$STATUS_LOG"; }

node_command() {
    local line=$1 cmd=$2
    case "$cmd" in
        export\ *) eval "$cmd" ;;
        *"java -jar target/duck-e.jar server config.yml"*)
            local build=${cmd%%&&*} run=${cmd##*&& }
            [ "$build" != "$cmd" ] && build_if_stale "$build"
            start_node "$line" "$run" ;;
        *) problem "README.md:$line: a node block line the script does not know: $cmd" ;;
    esac
}

build_if_stale() {
    local jar=target/duck-e.jar
    if [ ! -f "$jar" ] || [ -n "$(find pom.xml src/main config.yml migrations -newer "$jar" -type f 2>/dev/null | head -1)" ]; then
        echo "  building: $1"
        eval "$1" || problem "the build failed: $1"
    fi
}

start_node() {
    echo "  starting the quick-start node: app :$APP_PORT, admin :$ADMIN_PORT, grid :$HZ_PORT, data $WORK/data"
    # only the ports, the data directory and a cluster of its own differ from the quick start; nothing
    # else from the caller's environment may configure the node
    for v in $(env | sed -n 's/^\(DUCKE_[A-Z_]*\|HAZELCAST_[A-Z_]*\|RATE_LIMIT_[A-Z_]*\|COST_PROTECTION_[A-Z_]*\|DATABASE_[A-Z_]*\|UPSTREAM_[A-Z_]*\|RELAY_[A-Z_]*\)=.*/\1/p'); do
        case "$v" in DUCKE_SERVICE_TOKEN|DUCKE_OPERATOR_TOKEN) ;; *) unset "$v" ;; esac
    done
    unset OPENAI_API_KEY ALLOWED_ORIGINS TRUSTED_PROXIES METRICS_ALLOW_FROM
    export DUCKE_PORT=$APP_PORT DUCKE_ADMIN_PORT=$ADMIN_PORT HAZELCAST_PORT=$HZ_PORT DUCKE_DATA_DIR="$WORK/data" \
        HAZELCAST_CLUSTER_NAME="readme-examples-$$"
    eval "exec $2" >"$WORK/node.log" 2>&1 &
    NODE_PID=$!
}

await_node() {
    for _ in $(seq 1 180); do
        kill -0 "$NODE_PID" 2>/dev/null || break
        command curl -fsS -o /dev/null "http://localhost:$APP_PORT/status" 2>/dev/null && { echo "  ok   node serving ($(( $(date +%s) - started )) s)"; return; }
        sleep 0.5
    done
    problem "the quick-start node did not serve /status"
    tail -30 "$WORK/node.log" | sed 's/^/       /'
    print_summary
}

begin_example() {
    EXAMPLE_LINE=$1 EXAMPLE_EXPECT=$2 EXAMPLE_TEXT=$3
    : >"$STATUS_LOG"
    examples=$((examples + 1))
}

end_example() {
    local rc=$1 status want=$EXAMPLE_EXPECT first
    status=$(grep -E '^[0-9]{3}$' "$STATUS_LOG" | tail -1)
    first=$(echo "$EXAMPLE_TEXT" | head -1)
    cp "$EXAMPLE_OUT" "$LAST_OUT"
    local bad=""
    case "$want" in
        exit\ *) [ "$rc" = "${want#exit }" ] || bad="exit $rc, the README says $want" ;;
        "") [ "$rc" = 0 ] || bad="exit $rc"
            [ -z "$status" ] || [[ "$status" == 2* ]] || bad="HTTP $status" ;;
        *) [ "$rc" = 0 ] || bad="exit $rc"
           [ "$status" = "$want" ] || bad="HTTP ${status:-none}, the README says $want" ;;
    esac
    if [ -n "$bad" ]; then
        problem "README.md:$EXAMPLE_LINE: $bad: $first"
        head -c 600 "$EXAMPLE_OUT" | sed 's/^/       /'; echo
    else
        echo "  ok   README.md:$EXAMPLE_LINE ${status:+HTTP $status }${first:0:100} ($(( $(date +%s) - started )) s)"
    fi
}

check_status_schema() {
    local documented live
    documented=$(echo "$2" | jq -r 'keys_unsorted | sort | join(" ")' 2>/dev/null) \
        || { problem "README.md:$1: the /status example is not JSON"; return; }
    live=$(command curl -s "http://localhost:$APP_PORT/status" | jq -r 'del(.circuit_breaker_resets_at) | keys | join(" ")')
    if [ "$documented" = "$live" ]; then
        echo "  ok   README.md:$1 the /status example lists the node's fields"
    else
        problem "README.md:$1: the /status example lists [$documented], the node answers [$live]"
    fi
}

check_output() {
    local line missing=""
    while IFS= read -r line; do
        [ -z "$line" ] && continue
        grep -qF -- "$line" "$LAST_OUT" || missing="$line"
    done <<<"$2"
    if [ -z "$missing" ]; then
        echo "  ok   README.md:$1 the output shown is what the command printed"
    else
        problem "README.md:$1: the command did not print: $missing"
        head -c 600 "$LAST_OUT" | sed 's/^/       /'; echo
    fi
}

check_prices() {
    local verdict
    verdict=$(python3 - "$2" <<'PY'
import sys
try:
    import yaml
except ImportError:
    print("skip"); sys.exit()
documented = yaml.safe_load(sys.argv[1])["prices"]
shipped = yaml.safe_load(open("config.yml"))["prices"]
print("same" if documented == shipped else f"README {documented} != config.yml {shipped}")
PY
)
    case "$verdict" in
        same) echo "  ok   README.md:$1 the prices shown are config.yml's" ;;
        skip) echo "  note README.md:$1 PyYAML is missing: the prices block is not compared" ;;
        *) problem "README.md:$1: $verdict" ;;
    esac
}

# The three-node recipe, as written, in a scratch directory (its data and logs stay out of the
# checkout) on the ports it names; the quick-start node is stopped first, as the README says.
cluster_block() {
    local line=$1 setup=$2 call=$3 answer="" pids
    stop_node
    if ! python3 -c '
import socket, sys
for p in (8001, 8002, 8003, 8091, 8092, 8093, 5701, 5702, 5703):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try: s.bind(("0.0.0.0", p))
    except OSError: sys.exit(1)
    finally: s.close()'; then
        echo "  SKIP README.md:$line the three-node recipe: one of its ports (8001-8003, 8091-8093, 5701-5703) is in use here"
        return
    fi
    mkdir -p "$WORK/cluster/target"
    ln -s "$(pwd)/target/duck-e.jar" "$WORK/cluster/target/duck-e.jar"
    ln -s "$(pwd)/config.yml" "$WORK/cluster/config.yml"
    ln -s "$(pwd)/migrations" "$WORK/cluster/migrations"
    unset DUCKE_PORT DUCKE_ADMIN_PORT HAZELCAST_PORT DUCKE_DATA_DIR
    pushd "$WORK/cluster" >/dev/null || return
    local before
    before=$(jobs -p)
    eval "$setup"
    pids=$(jobs -p | grep -vxF -- "${before:-none}")
    CLUSTER_PIDS=$pids
    for _ in $(seq 1 360); do
        answer=$(eval "$call" 2>/dev/null)
        [[ "$answer" == *'"cluster_members":3'* ]] && break
        sleep 0.5
    done
    popd >/dev/null || return
    if [[ "$answer" == *'"cluster_members":3'* ]]; then
        echo "  ok   README.md:$line three nodes formed one cluster ($(( $(date +%s) - started )) s)"
    else
        problem "README.md:$line: the three nodes did not report cluster_members 3: ${answer:-no answer}"
        tail -5 "$WORK"/cluster/node-*.log 2>/dev/null | sed 's/^/       /'
    fi
    stop_pids $pids
    CLUSTER_PIDS=""
}

stop_node() {
    [ -n "$NODE_PID" ] && stop_pids "$NODE_PID"
    NODE_PID=""
}

print_summary() {
    echo
    if [ "${#failures[@]}" -eq 0 ]; then
        echo "PASS: readme-examples ($examples examples ran as written against a quick-start node)"
        exit 0
    fi
    echo "FAIL: readme-examples, ${#failures[@]} problem(s):"
    for f in "${failures[@]}"; do echo "  - $f"; done
    echo "  (node log: the last lines follow)"
    tail -15 "$WORK/node.log" 2>/dev/null | sed 's/^/       /'
    exit 1
}

# every variable config.yml reads is in the README's configuration table
check_variables() {
    local missing=""
    for v in $(grep -v '^\s*#' config.yml | grep -oE '\$\{[A-Z][A-Z0-9_]*(:-|\})' | sed -E 's/^\$\{//; s/(:-|\})$//' | sort -u); do
        grep -qF -- "\`$v\`" "$README" || missing="$missing $v"
    done
    if [ -z "$missing" ]; then
        echo "  ok   every variable config.yml reads is documented"
    else
        problem "config.yml reads variables the README does not document:$missing"
    fi
}

echo "== README.md examples"
started=$(date +%s)
check_variables
# shellcheck disable=SC1091
source "$WORK/examples.sh"
echo "  ($(( $(date +%s) - started )) s)"
print_summary

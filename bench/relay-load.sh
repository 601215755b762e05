#!/usr/bin/env bash
# Relay load: the service's /session relay and a plain nginx WebSocket proxy, side by side, in front of
# the same echo stand-in (bench/relay-load). Run from the repository root:
#
#   bench/relay-load.sh                  the standard case: 200 sessions x 200 frames of 4 KiB, paced at 64 ms
#   bench/relay-load.sh saturation       the same 200 sessions in closed loop (next frame as soon as the echo is back)
#   bench/relay-load.sh standard --idle-max-wait-s=0     anything after the case goes to the driver
#
# Builds the main jar and the driver first when either is missing or older than its sources. Needs nginx
# (apt-get install -y nginx). The output is also written to bench/relay-load/target/<case>.txt and ends
# with the driver's summary line; the exit status is the driver's (0: every frame came back intact).
set -euo pipefail
cd "$(dirname "$0")/.."

name=standard
if [[ $# -gt 0 && $1 != --* ]]; then
    name=$1
    shift
fi
case "$name" in
    standard) args=(200 200 4096 --pace-ms=64) ;;
    saturation) args=(200 200 4096) ;;
    *)
        echo "usage: bench/relay-load.sh [standard|saturation] [driver options, e.g. --idle-max-wait-s=0]" >&2
        exit 2
        ;;
esac

# the driver checks for nginx too; checking here saves a build when it is missing
if [[ " $* " != *" --nginx="* && " $* " != *" --phases="* ]] && ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
    echo "relay-load: nginx is not installed: apt-get install -y nginx (or pass --nginx=PATH, or --phases=direct,service)" >&2
    exit 2
fi

# true when $1 is missing or a file under the other arguments is newer
stale() {
    local out=$1
    shift
    [[ ! -f $out ]] || [[ -n $(find "$@" -type f -newer "$out" -print -quit) ]]
}
if stale target/duck-e.jar pom.xml src/main; then
    echo "building target/duck-e.jar"
    mvn -B -q package -DskipTests
fi
if stale bench/relay-load/target/relay-load.jar bench/relay-load/pom.xml bench/relay-load/src; then
    echo "building bench/relay-load/target/relay-load.jar"
    (cd bench/relay-load && mvn -B -q package)
fi

out=bench/relay-load/target/$name.txt
{
    echo "relay-load.sh $name: commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src pom.xml config.yml 2>/dev/null || echo ' plus uncommitted changes'), $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "java -jar bench/relay-load/target/relay-load.jar ${args[*]} $*"
} | tee "$out"
java -jar bench/relay-load/target/relay-load.jar "${args[@]}" "$@" | tee -a "$out"

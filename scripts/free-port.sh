# Sourced by the chaos scripts and the benchmarks (from the repository root); bash.
# free_port -> an even TCP port, with the odd one above it (admin ports are app + 1), that no socket uses in any
# state, below the kernel's ephemeral range (32768+) so an outgoing connection cannot take it later; never the
# same port twice in one script run (picks are remembered in a file, as callers run this in a subshell)
FREE_PORTS_TAKEN=${FREE_PORTS_TAKEN:-$(mktemp "${TMPDIR:-/tmp}/ducke-ports.XXXXXX")}
export FREE_PORTS_TAKEN
free_port() {
    local p
    while :; do
        p=$(( 20000 + 2 * (RANDOM % 6000) ))
        grep -qx "$p" "$FREE_PORTS_TAKEN" 2>/dev/null && continue
        [ -z "$(ss -Htan "( sport = :$p or sport = :$((p + 1)) )" 2>/dev/null)" ] || continue
        echo "$p" >>"$FREE_PORTS_TAKEN"
        echo "$p"
        return
    done
}

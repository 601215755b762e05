package ducke.core.cost;

/**
 * One writer's contribution to a session's cost: money, tokens, how many charges it made, and the
 * last journal sequence it replayed. Only its own writer changes it, and only upward, so of two
 * copies the one with more charges is the later one.
 */
public record Share(long costNanoUsd, TokenCounts tokens, int charges, long lastSeq) {

    public static final Share NONE = new Share(0, TokenCounts.ZERO, 0, 0);

    public Share {
        if (costNanoUsd < 0 || charges < 0 || lastSeq < 0 || tokens == null) {
            throw new IllegalArgumentException("a share never goes below zero");
        }
    }

    Share plus(long callCostNanoUsd, TokenCounts callTokens, long seq) {
        return new Share(Math.addExact(costNanoUsd, callCostNanoUsd), tokens.plus(callTokens), Math.addExact(charges, 1),
                Math.max(lastSeq, seq));
    }

    /** Whether a replay with this sequence number was applied already. */
    boolean seen(long seq) {
        return seq > 0 && seq <= lastSeq;
    }

    /** The later of two copies of the same writer's share; deterministic whatever the order. */
    static Share later(Share a, Share b) {
        if (a.charges != b.charges) {
            return a.charges > b.charges ? a : b;
        }
        if (a.lastSeq != b.lastSeq) {
            return a.lastSeq > b.lastSeq ? a : b;
        }
        return a.costNanoUsd >= b.costNanoUsd ? a : b;
    }
}

package ducke.core.cluster;

/**
 * Start-up refused: a member of the cluster this node would join speaks a grid wire version this
 * node cannot read. No stack trace, since the cause is the mix of versions, not a fault.
 */
public final class GridWireMismatchException extends RuntimeException {

    public GridWireMismatchException(String member, String theirs, int mine) {
        super("Cluster member " + member + " speaks grid wire version " + theirs + "; this node reads version " + mine
                + " only and does not join. Run one wire version per cluster (upgrade or roll back the other nodes first).",
                null, false, false);
    }
}

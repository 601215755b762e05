package ducke.core.cluster;

/**
 * Start-up refused: this node cannot read what the cluster it would join writes on the grid, or the
 * cluster cannot read what it would write. The message names the member and both wire ranges; no
 * stack trace, since the cause is the mix of releases.
 */
public final class WireMismatchException extends RuntimeException {

    public WireMismatchException(String message) {
        super(message, null, false, false);
    }
}

package ducke.core.cluster;

import java.util.List;

/**
 * Start-up refused: this node's limits or prices differ from those of the cluster it would join.
 * The message names every differing setting; no stack trace, since the cause is configuration.
 */
public final class GridSettingsMismatchException extends RuntimeException {

    public GridSettingsMismatchException(String member, List<String> differences) {
        super("This node's limits and prices differ from those of cluster member " + member + ": "
                + String.join("; ", differences) + ". Every node of a cluster must run with the same "
                + "costProtection, rateLimits and prices settings; this node does not join.", null, false, false);
    }
}

package ducke.core.cost;

import java.util.Collection;
import java.util.Map;
import java.util.Set;

/**
 * What the operator API reads of the whole cluster, whichever node answers: the session ledgers,
 * the live calls, the paused sessions, the cluster's spend and the clients' hourly spend. Read only;
 * each read costs one pass over its grid map (the ledgers: the live sessions and those ended within
 * the retention). Every method may throw {@link ducke.core.cluster.ClusterUnavailableException}.
 */
public interface ClusterActivity {

    /** Every session ledger the cluster holds: live ones and ended ones not yet dropped. */
    Collection<SessionLedger> ledgers();

    /** The ids of the sessions that are live WebRTC calls. */
    Set<String> calls();

    /** The ids of the sessions paused at their cap now. */
    Set<String> pausedSessions();

    /** The cluster's spend ledger ({@link SpendLedger#EMPTY} when nothing was spent). */
    SpendLedger spend();

    /** Client id → its rolling hourly spend, for the clients that spent within the hour. */
    Map<String, ClientSpend> clientSpend();
}

package ducke.core.cost;

import ducke.core.cluster.ClusterHealth;
import ducke.core.settings.LiveSettings;

/**
 * What cost protection works with, as one value: the cluster's current settings (prices and
 * limits), the stores that hold the state, the node's view of the spend, who hears of changes, the
 * quorum, the journal of charges waiting for one, this process's writer id ({@link ChargeId}) and the
 * clients' day and month budgets.
 * The guard and its parts ({@link Charges}) share it instead of each keeping the same list of
 * collaborators.
 */
record CostParts(LiveSettings settings, SessionStore sessions, SpendStore spend, SpendView view,
                 BreakerBroadcast broadcast, CostObserver observer, ClusterHealth health, ChargeJournal journal,
                 String writer, ClientBudgets budgets) {

    /** The current prices; an operation that prices and records a charge takes them once. */
    PriceTable prices() {
        return settings.get().prices();
    }

    /** The current caps. */
    CostLimits limits() {
        return settings.get().limits();
    }
}

package ducke.core.cost;

import ducke.core.cluster.ClusterHealth;

/**
 * What cost protection works with, as one value: prices and limits, the stores that hold the state,
 * the node's view of the spend, who hears of changes, the quorum, the journal of charges waiting for
 * one, and this process's writer id ({@link ChargeId}). The guard and its parts ({@link Charges})
 * share it instead of each keeping the same list of collaborators.
 */
record CostParts(PriceTable prices, CostLimits limits, SessionStore sessions, SpendStore spend, SpendView view,
                 BreakerBroadcast broadcast, CostObserver observer, ClusterHealth health, ChargeJournal journal,
                 String writer) {
}

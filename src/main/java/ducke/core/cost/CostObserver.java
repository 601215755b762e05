package ducke.core.cost;

/**
 * Told about every charge, refusal and end, for metrics and the audit. Must be fast and never
 * throw. Every method does nothing unless overridden: an observer names only what it listens to.
 */
public interface CostObserver {

    default void charged(String modelLabel, boolean knownModel, long costNanoUsd, TokenCounts tokens) {
    }

    /**
     * A limit was hit: {@code session_cost}, {@code session_duration}, {@code hourly},
     * {@code client_hourly}, {@code circuit_breaker} or {@code concurrent_sessions}.
     */
    default void limitReached(String limit) {
    }

    default void sessionEnded(SessionRecord record) {
    }

    default void spend(SpendLedger.Snapshot snapshot) {
    }

    /** The breaker changed state on this node's doing: tripped by hand, reset, or opened by spend. */
    default void breakerChanged(SpendLedger.Snapshot snapshot, String cause) {
    }

    /**
     * The journal of charges waiting for a quorum: {@code journaled}, {@code refused} (it was
     * full, or could not be written), {@code applied}, {@code applied_orphan} (a charge whose session
     * is gone, counted in the spend, the client's spend and the audit without it) or
     * {@code discarded} (the end of a session that is gone).
     */
    default void journal(String outcome) {
    }

    /**
     * A charge was applied to a session's ledger (once per charge, on the node that applied it):
     * the audit keeps a row per charge, metrics count estimated ones.
     */
    default void chargeRecorded(ChargeRecord record) {
    }

    /**
     * A charge of {@code costNanoUsd} whose usage never arrived was charged (or journaled) at its
     * reservation, for a session of the model labelled {@code modelLabel}.
     */
    default void estimated(String modelLabel, long costNanoUsd) {
    }

    /**
     * A reservation of the session API ({@link ApiReservations}): {@code granted}, {@code refused},
     * {@code settled} (by its usage report), {@code released} or {@code expired} (charged its amount).
     */
    default void reservation(String outcome) {
    }

    /** Tells {@code first}, then {@code second}. */
    static CostObserver both(CostObserver first, CostObserver second) {
        return new CostObserver() {
            @Override
            public void charged(String modelLabel, boolean knownModel, long costNanoUsd, TokenCounts tokens) {
                first.charged(modelLabel, knownModel, costNanoUsd, tokens);
                second.charged(modelLabel, knownModel, costNanoUsd, tokens);
            }

            @Override
            public void limitReached(String limit) {
                first.limitReached(limit);
                second.limitReached(limit);
            }

            @Override
            public void reservation(String outcome) {
                first.reservation(outcome);
                second.reservation(outcome);
            }

            @Override
            public void sessionEnded(SessionRecord record) {
                first.sessionEnded(record);
                second.sessionEnded(record);
            }

            @Override
            public void spend(SpendLedger.Snapshot snapshot) {
                first.spend(snapshot);
                second.spend(snapshot);
            }

            @Override
            public void breakerChanged(SpendLedger.Snapshot snapshot, String cause) {
                first.breakerChanged(snapshot, cause);
                second.breakerChanged(snapshot, cause);
            }

            @Override
            public void journal(String outcome) {
                first.journal(outcome);
                second.journal(outcome);
            }

            @Override
            public void estimated(String model, long costNanoUsd) {
                first.estimated(model, costNanoUsd);
                second.estimated(model, costNanoUsd);
            }

            @Override
            public void chargeRecorded(ChargeRecord record) {
                first.chargeRecorded(record);
                second.chargeRecorded(record);
            }
        };
    }

    CostObserver NONE = new CostObserver() {
    };
}

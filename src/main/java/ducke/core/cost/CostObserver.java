package ducke.core.cost;

/** Told about every charge, refusal and end, for metrics. Must be fast and never throw. */
public interface CostObserver {

    void charged(String modelLabel, boolean knownModel, long costNanoUsd, TokenCounts tokens);

    /** A limit was hit: {@code session_cost}, {@code session_duration}, {@code hourly}, {@code circuit_breaker} or {@code concurrent_sessions}. */
    void limitReached(String limit);

    void sessionEnded(SessionRecord record);

    void spend(SpendLedger.Snapshot snapshot);

    CostObserver NONE = new CostObserver() {
        @Override
        public void charged(String modelLabel, boolean knownModel, long costNanoUsd, TokenCounts tokens) {
        }

        @Override
        public void limitReached(String limit) {
        }

        @Override
        public void sessionEnded(SessionRecord record) {
        }

        @Override
        public void spend(SpendLedger.Snapshot snapshot) {
        }
    };
}

package ducke.core.cost;

/** The final record of one finished session: what the audit trail stores, one per session id. */
public record SessionRecord(String sessionId, String clientId, String nodeName, String model, long startedAtMillis,
                            long endedAtMillis, EndReason endReason, TokenCounts tokens, int chargedResponses,
                            long costNanoUsd, String priceVersion) {

    public long durationMillis() {
        return endedAtMillis - startedAtMillis;
    }
}

package ducke.core.cost;

/**
 * One charge as the audit keeps it, next to the session's row: what was priced, by which model and
 * price version, and whether the amount is the real usage or an estimate.
 *
 * @param sessionId    the session charged
 * @param chargeKey    what was charged, unique within the session: a response id ({@code resp_…}), a
 *                     transcription's item id ({@code transcription:item_…}), a usage report's
 *                     idempotency key ({@code report:…}), a tool fee ({@code tool:<name>:<writer seq>})
 * @param clientId     the session's client
 * @param model        the model whose prices priced the charge (for a tool fee: the session's model)
 * @param tokens       tokens by kind (zero for a tool fee or an estimate)
 * @param costNanoUsd  the amount charged
 * @param estimated    the usage never arrived: the amount is the response's reservation
 * @param atMillis     when the charge was applied (wall clock, epoch milliseconds)
 * @param priceVersion the price table's version that priced it
 */
public record ChargeRecord(String sessionId, String chargeKey, String clientId, String model, TokenCounts tokens,
                           long costNanoUsd, boolean estimated, long atMillis, String priceVersion) {

    public ChargeRecord {
        if (sessionId == null || chargeKey == null || tokens == null || costNanoUsd < 0) {
            throw new IllegalArgumentException("a charge record needs a session, a key, tokens and a cost");
        }
    }
}

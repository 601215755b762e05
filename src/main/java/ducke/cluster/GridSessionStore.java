package ducke.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import ducke.core.cost.ChargeId;
import ducke.core.cost.ChargeKey;
import ducke.core.cost.CostLimits;
import ducke.core.cost.EndReason;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SessionRules;
import ducke.core.cost.SessionSlots;
import ducke.core.cost.SessionStore;
import ducke.core.cost.TokenCounts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Optional;

/**
 * Session ledgers and per-client slots in grid maps, changed only by entry processors. Every call
 * waits at most the grid-call deadline, then throws
 * {@link ducke.core.cluster.ClusterUnavailableException} ({@link ducke.core.cluster.QuorumLostException}
 * without the cluster's quorum); a slot release does not wait at all.
 */
final class GridSessionStore implements SessionStore {

    private static final Logger LOG = LoggerFactory.getLogger(GridSessionStore.class);

    private final IMap<String, SessionLedger> ledgers;
    private final IMap<String, SessionSlots> slots;
    private final GridCalls calls;

    GridSessionStore(HazelcastInstance hz, GridCalls calls) {
        this.ledgers = hz.getMap(HazelcastFactory.SESSIONS_MAP);
        this.slots = hz.getMap(HazelcastFactory.SLOTS_MAP);
        this.calls = calls;
    }

    IMap<String, SessionLedger> ledgers() {
        return ledgers;
    }

    @Override
    public boolean tryAcquireSlot(String clientId, String sessionId, long expiresAtMillis, int maxSlots, long nowMillis) {
        return calls.await("taking a session slot",
                () -> slots.submitToKey(clientId, new SlotProcessors.Acquire(sessionId, expiresAtMillis, maxSlots, nowMillis)));
    }

    /**
     * Sent without waiting, so that no request waits for a release on top of the call that failed
     * or ended it: the grid applies it in order with this node's later calls on the same client,
     * and a slot whose release is lost lapses by itself when its session would have expired.
     */
    @Override
    public void releaseSlot(String clientId, String sessionId, long nowMillis) {
        try {
            slots.submitToKey(clientId, new SlotProcessors.Release(sessionId, nowMillis)).whenComplete((released, failure) -> {
                if (failure != null) {
                    LOG.warn("Slot of session {} not released: {}; it lapses at the session's expiry", sessionId, failure.toString());
                }
            });
        } catch (RuntimeException e) {
            LOG.warn("Slot of session {} not released: {}; it lapses at the session's expiry", sessionId, e.toString());
        }
    }

    @Override
    public SessionSlots slots(String clientId) {
        SessionSlots s = calls.await("reading a client's session slots", () -> slots.getAsync(clientId));
        return s == null ? SessionSlots.EMPTY : s;
    }

    @Override
    public boolean create(SessionLedger ledger) {
        return calls.await("opening a session",
                () -> ledgers.submitToKey(ledger.sessionId(), new LedgerProcessors.Create(ledger)));
    }

    @Override
    public SessionRules.Charge charge(String sessionId, ChargeId id, ChargeKey key, long costNanoUsd, TokenCounts tokens,
                                      long nowMillis, CostLimits limits) {
        return calls.await("charging a session", () -> ledgers.submitToKey(sessionId,
                new LedgerProcessors.Charge(id, key, costNanoUsd, tokens, nowMillis, limits)));
    }

    @Override
    public void confirmSpend(String sessionId, ChargeKey key) {
        calls.await("confirming a charge's spend", () -> ledgers.submitToKey(sessionId, new LedgerProcessors.ConfirmSpend(key)));
    }

    @Override
    public Optional<Ended> end(String sessionId, EndReason reason, long nowMillis) {
        return Optional.ofNullable(calls.await("ending a session",
                () -> ledgers.submitToKey(sessionId, new LedgerProcessors.End(reason, nowMillis))));
    }

    @Override
    public Optional<SessionLedger> get(String sessionId) {
        return Optional.ofNullable(calls.await("reading a session", () -> ledgers.getAsync(sessionId)));
    }

    @Override
    public int recapLive(long oldCapNanoUsd, long newCapNanoUsd) {
        Map<String, Boolean> changed = calls.awaitBlocking("changing live sessions' caps",
                () -> ledgers.executeOnEntries(new LedgerProcessors.Recap(oldCapNanoUsd, newCapNanoUsd)));
        return (int) changed.values().stream().filter(Boolean::booleanValue).count();
    }

    /** The ledger after the change travels back with its keys; it is read, never stored, by the caller. */
    @Override
    public Optional<SessionLedger> setCap(String sessionId, long capNanoUsd) {
        return Optional.ofNullable(calls.await("setting a session's cap",
                () -> ledgers.submitToKey(sessionId, new LedgerProcessors.SetCap(capNanoUsd))));
    }
}

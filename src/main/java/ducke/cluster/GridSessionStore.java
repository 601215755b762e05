package ducke.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import ducke.core.cost.CostLimits;
import ducke.core.cost.EndReason;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SessionRules;
import ducke.core.cost.SessionSlots;
import ducke.core.cost.SessionStore;
import ducke.core.cost.TokenCounts;

import java.util.Optional;

/** Session ledgers and per-client slots in grid maps, changed only by entry processors. */
final class GridSessionStore implements SessionStore {

    private final IMap<String, SessionLedger> ledgers;
    private final IMap<String, SessionSlots> slots;

    GridSessionStore(HazelcastInstance hz) {
        this.ledgers = hz.getMap(HazelcastFactory.SESSIONS_MAP);
        this.slots = hz.getMap(HazelcastFactory.SLOTS_MAP);
    }

    IMap<String, SessionLedger> ledgers() {
        return ledgers;
    }

    @Override
    public boolean tryAcquireSlot(String clientId, String sessionId, long expiresAtMillis, int maxSlots, long nowMillis) {
        return slots.executeOnKey(clientId, new SlotProcessors.Acquire(sessionId, expiresAtMillis, maxSlots, nowMillis));
    }

    @Override
    public void releaseSlot(String clientId, String sessionId, long nowMillis) {
        slots.executeOnKey(clientId, new SlotProcessors.Release(sessionId, nowMillis));
    }

    @Override
    public boolean create(SessionLedger ledger) {
        return ledgers.putIfAbsent(ledger.sessionId(), ledger) == null;
    }

    @Override
    public SessionRules.Charge charge(String sessionId, long costNanoUsd, TokenCounts tokens, long nowMillis, CostLimits limits) {
        return ledgers.executeOnKey(sessionId, new LedgerProcessors.Charge(costNanoUsd, tokens, nowMillis, limits));
    }

    @Override
    public Optional<Ended> end(String sessionId, EndReason reason, long nowMillis) {
        return Optional.ofNullable(ledgers.executeOnKey(sessionId, new LedgerProcessors.End(reason, nowMillis)));
    }

    @Override
    public Optional<SessionLedger> get(String sessionId) {
        return Optional.ofNullable(ledgers.get(sessionId));
    }
}

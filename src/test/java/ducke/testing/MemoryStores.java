package ducke.testing;

import ducke.core.cost.ChargeId;
import ducke.core.cost.ChargeKey;
import ducke.core.cost.ClientSpend;
import ducke.core.cost.CostLimits;
import ducke.core.cost.EndReason;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SessionRules;
import ducke.core.cost.SessionSlots;
import ducke.core.cost.SessionStore;
import ducke.core.cost.SpendLedger;
import ducke.core.cost.SpendStore;
import ducke.core.cost.TokenCounts;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** The cost stores in memory, for unit tests of what uses them (the guard, the relay's metering). */
public final class MemoryStores {

    private MemoryStores() {
    }

    /**
     * Session ledgers and slots in synchronized maps, changed only through {@link SessionRules} and
     * {@link SessionSlots}. While {@link #quorum} is false every call fails as the grid does without one.
     */
    public static final class MemorySessions implements SessionStore {
        private final Map<String, SessionLedger> ledgers = new HashMap<>();
        private final Map<String, SessionSlots> slots = new HashMap<>();
        private final Map<String, Integer> releases = new HashMap<>();
        public final java.util.concurrent.atomic.AtomicBoolean quorum = new java.util.concurrent.atomic.AtomicBoolean(true);

        private void requireQuorum() {
            if (!quorum.get()) {
                throw new ducke.core.cluster.QuorumLostException("no quorum (test)", 10);
            }
        }

        @Override
        public synchronized boolean tryAcquireSlot(String clientId, String sessionId, long expiresAtMillis, int maxSlots,
                                                   long nowMillis) {
            requireQuorum();
            SessionSlots after = slots.getOrDefault(clientId, SessionSlots.EMPTY)
                    .tryAcquire(sessionId, expiresAtMillis, maxSlots, nowMillis);
            if (after == null) {
                return false;
            }
            slots.put(clientId, after);
            return true;
        }

        @Override
        public synchronized java.util.Optional<SessionLedger> setCap(String sessionId, long capNanoUsd) {
            requireQuorum();
            SessionLedger l = ledgers.get(sessionId);
            if (l == null) {
                return java.util.Optional.empty();
            }
            SessionLedger after = ducke.core.cost.SessionRules.capped(l, capNanoUsd);
            ledgers.put(sessionId, after);
            return java.util.Optional.of(after);
        }

        @Override
        public synchronized int recapLive(long oldCapNanoUsd, long newCapNanoUsd) {
            requireQuorum();
            int changed = 0;
            for (Map.Entry<String, SessionLedger> e : ledgers.entrySet()) {
                SessionLedger after = ducke.core.cost.SessionRules.recapped(e.getValue(), oldCapNanoUsd, newCapNanoUsd);
                if (after != e.getValue()) {
                    e.setValue(after);
                    changed++;
                }
            }
            return changed;
        }

        @Override
        public synchronized void releaseSlot(String clientId, String sessionId, long nowMillis) {
            requireQuorum();
            releases.merge(sessionId, 1, Integer::sum);
            slots.computeIfPresent(clientId, (k, v) -> v.release(sessionId));
        }

        @Override
        public synchronized boolean create(SessionLedger ledger) {
            requireQuorum();
            return ledgers.putIfAbsent(ledger.sessionId(), ledger) == null;
        }

        @Override
        public synchronized SessionRules.Charge charge(String sessionId, ChargeId id, ChargeKey key, long costNanoUsd,
                                                       TokenCounts tokens, long nowMillis, CostLimits limits) {
            requireQuorum();
            SessionRules.Charge c = SessionRules.charge(ledgers.get(sessionId), id, key, costNanoUsd, tokens, nowMillis, limits);
            if (c.ledger() != null) {
                ledgers.put(sessionId, c.ledger());
            }
            return c;
        }

        @Override
        public synchronized void confirmSpend(String sessionId, ChargeKey key) {
            requireQuorum();
            ledgers.computeIfPresent(sessionId, (k, l) -> SessionRules.spendConfirmed(l, key));
        }

        @Override
        public synchronized Optional<Ended> end(String sessionId, EndReason reason, long nowMillis) {
            requireQuorum();
            SessionLedger before = ledgers.get(sessionId);
            if (before == null) {
                return Optional.empty();
            }
            SessionLedger after = SessionRules.end(before, reason, nowMillis);
            ledgers.put(sessionId, after);
            return Optional.of(new Ended(after, after != before));
        }

        @Override
        public synchronized Optional<SessionLedger> get(String sessionId) {
            requireQuorum();
            return Optional.ofNullable(ledgers.get(sessionId));
        }

        public synchronized int releases(String sessionId) {
            return releases.getOrDefault(sessionId, 0);
        }

        public synchronized int slotsHeld(String clientId) {
            return slots.getOrDefault(clientId, SessionSlots.EMPTY).size();
        }

        public synchronized int ledgerCount() {
            return ledgers.size();
        }

        /** The ledger expires (as the grid's retention removes it). */
        public synchronized void expire(String sessionId) {
            ledgers.remove(sessionId);
        }
    }

    /**
     * The cluster spend ledger under one synchronized field, changed only through {@link SpendLedger};
     * clients' hourly spend in a map, changed only through {@link ClientSpend}.
     */
    public static final class MemorySpend implements SpendStore {
        private SpendLedger ledger = SpendLedger.EMPTY;
        private final Map<String, ClientSpend> clients = new HashMap<>();
        private int charges;
        public final java.util.concurrent.atomic.AtomicBoolean quorum = new java.util.concurrent.atomic.AtomicBoolean(true);

        private void requireQuorum() {
            if (!quorum.get()) {
                throw new ducke.core.cluster.QuorumLostException("no quorum (test)", 10);
            }
        }

        /** Adds rebuilt state as the grid's store does: merged with what is there. */
        public synchronized void seed(SpendLedger rebuilt, Map<String, ClientSpend> rebuiltClients) {
            ledger = SpendLedger.merge(ledger, rebuilt);
            rebuiltClients.forEach((client, s) -> clients.merge(client, s, ClientSpend::merge));
        }

        public synchronized SpendLedger ledger() {
            return ledger;
        }

        @Override
        public synchronized ClientSpend.Snapshot chargeClient(String clientId, long costNanoUsd, long nowMillis,
                                                              CostLimits limits) {
            requireQuorum();
            ClientSpend after = clients.getOrDefault(clientId, ClientSpend.EMPTY).charge(costNanoUsd, nowMillis, limits);
            clients.put(clientId, after);
            return after.snapshot(nowMillis, limits);
        }

        @Override
        public synchronized ClientSpend.Snapshot clientSnapshot(String clientId, long nowMillis, CostLimits limits) {
            requireQuorum();
            ClientSpend c = clients.get(clientId);
            return c == null ? ClientSpend.Snapshot.NONE : c.snapshot(nowMillis, limits);
        }

        @Override
        public synchronized SpendLedger.Charged charge(ChargeId id, long costNanoUsd, long nowMillis, CostLimits limits) {
            requireQuorum();
            SpendLedger.Charged c = ledger.charge(id, costNanoUsd, nowMillis, limits);
            ledger = c.ledger();
            charges++;
            return c;
        }

        @Override
        public synchronized SpendLedger.Snapshot snapshot(long nowMillis, CostLimits limits) {
            requireQuorum();
            return ledger.snapshot(nowMillis, limits);
        }

        @Override
        public synchronized SpendLedger.Snapshot trip(long nowMillis, CostLimits limits, String cause) {
            ledger = ledger.trip(nowMillis, limits, cause);
            return ledger.snapshot(nowMillis, limits);
        }

        @Override
        public synchronized SpendLedger.Snapshot reset(long nowMillis, CostLimits limits) {
            ledger = ledger.reset(nowMillis, limits);
            return ledger.snapshot(nowMillis, limits);
        }

        @Override
        public synchronized SpendLedger.Reserved reserve(String holdId, long minNanoUsd, long maxNanoUsd, long nowMillis,
                                                         long expiresAtMillis, CostLimits limits) {
            requireQuorum();
            SpendLedger.Reserved r = ledger.reserveUpTo(holdId, minNanoUsd, maxNanoUsd, nowMillis, expiresAtMillis, limits);
            ledger = r.ledger();
            return r;
        }

        @Override
        public synchronized long reserveClient(String clientId, String holdId, long minNanoUsd, long maxNanoUsd, long nowMillis,
                                               long expiresAtMillis, CostLimits limits) {
            requireQuorum();
            ClientSpend after = clients.getOrDefault(clientId, ClientSpend.EMPTY)
                    .reserveUpTo(holdId, minNanoUsd, maxNanoUsd, nowMillis, expiresAtMillis, limits);
            if (after == null) {
                return 0;
            }
            clients.put(clientId, after);
            return limits.enforced() ? after.held(holdId, nowMillis) : maxNanoUsd;
        }

        @Override
        public synchronized void release(String holdId, long nowMillis, CostLimits limits) {
            ledger = ledger.release(holdId, nowMillis, limits);
        }

        @Override
        public synchronized void releaseClient(String clientId, String holdId, long nowMillis, CostLimits limits) {
            ClientSpend c = clients.get(clientId);
            if (c != null) {
                clients.put(clientId, c.release(holdId, nowMillis));
            }
        }

        public synchronized ClientSpend client(String clientId) {
            return clients.getOrDefault(clientId, ClientSpend.EMPTY);
        }

        public synchronized int charges() {
            return charges;
        }
    }
}

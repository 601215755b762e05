package ducke.core.cost;

import ducke.core.cluster.QuorumLostException;

import java.util.Optional;

/**
 * Applies a guard's journal to the grid, oldest entry first, each as the {@link ChargeId} it was
 * journaled under (its writer may be an earlier process of this node, whose journal was found on
 * disk), so that an entry applied twice (a retry after a failure halfway, or after a crash)
 * counts once. A charge whose session is gone by now (its ledger expired during a long partition)
 * still counts: in the cluster's spend and breaker, the client's spend and the audit. Stops at the
 * first entry the grid cannot take yet; the next run starts there again.
 */
final class JournalReplay {

    private final CostGuard guard;
    private final ChargeJournal journal;
    private final CostObserver observer;
    /** Entries (of an earlier process) that the rebuilt spend counts already: dropped when reached. */
    private volatile java.util.Set<ChargeId> counted = java.util.Set.of();

    JournalReplay(CostGuard guard, ChargeJournal journal, CostObserver observer) {
        this.guard = guard;
        this.journal = journal;
        this.observer = observer;
    }

    void alreadyCounted(java.util.Set<ChargeId> ids) {
        counted = java.util.Set.copyOf(ids);
    }

    /**
     * The key of {@code e}'s audit row, the same whichever process applies it: a keyed report's own
     * key, else {@code journal:<writer>#<seq>}. (A charge whose session is gone is always recorded
     * under the latter: see {@link Charges#orphan}.)
     */
    static String auditKey(ChargeJournal.Entry e) {
        if (e instanceof ChargeJournal.Usage u && u.chargeKey() != null) {
            return u.chargeKey();
        }
        return orphanKey(e.id());
    }

    static String orphanKey(ChargeId id) {
        return "journal:" + id.writer() + "#" + id.seq();
    }

    synchronized int run() {
        int done = 0;
        for (ChargeJournal.Entry e = journal.oldest(); e != null && guard.health().quorum() && guard.ready(); e = journal.oldest()) {
            try {
                observer.journal(counted.contains(e.id()) ? "repeated" : apply(e));
            } catch (QuorumLostException lost) {
                break;
            }
            journal.applied(e);
            done++;
        }
        return done;
    }

    /**
     * Applies one entry: {@code applied}, {@code applied_orphan} (counted without its session, which
     * is gone), {@code repeated} (its key had been charged meanwhile, on another node: nothing was
     * charged) or {@code discarded} (the end of a session that is gone: nothing to do).
     */
    private String apply(ChargeJournal.Entry e) {
        ChargeId id = e.id();
        if (e instanceof ChargeJournal.Usage u) {
            String model = u.sessionModel();
            if (model == null) {
                Optional<SessionLedger> l = guard.get(u.sessionId());
                model = l.map(SessionLedger::model).orElse(null);
            }
            PriceTable.Priced priced = guard.price(model, u.reportedModel(), u.usage());
            ChargeKey key = ChargeKey.orNull(u.chargeKey(), u.reportedModel(), u.usage());
            CostGuard.Usage charged = guard.replayed(u.sessionId(), id, key, auditKey(u), priced.costNanoUsd(), priced.tokens(),
                    priced, u.atMillis());
            if (charged.repeated()) {
                return "repeated";
            }
            if (counted(charged)) {
                return "applied";
            }
            guard.orphan(id, u.sessionId(), u.clientId(), priced.costNanoUsd(), priced.tokens(), priced, model, u.atMillis());
            return "applied_orphan";
        }
        if (e instanceof ChargeJournal.Charge c) {
            if (counted(guard.replayed(c.sessionId(), id, null, auditKey(c), c.costNanoUsd(), TokenCounts.ZERO, null,
                    c.atMillis()))) {
                return "applied";
            }
            guard.orphan(id, c.sessionId(), c.clientId(), c.costNanoUsd(), TokenCounts.ZERO, null, c.sessionModel(),
                    c.atMillis());
            return "applied_orphan";
        }
        if (e instanceof ChargeJournal.Spend s) {
            guard.spendOnly(id, s.clientId(), s.costNanoUsd(), s.atMillis());
            return "applied";
        }
        ChargeJournal.End end = (ChargeJournal.End) e;
        return guard.end(end.sessionId(), end.reason(), end.atMillis()).isPresent() ? "applied" : "discarded";
    }

    private static boolean counted(CostGuard.Usage u) {
        return u.ledger() != null && u.applied();
    }
}

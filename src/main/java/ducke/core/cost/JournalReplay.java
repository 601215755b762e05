package ducke.core.cost;

import ducke.core.cluster.QuorumLostException;

import java.util.Optional;

/**
 * Applies a guard's journal to the grid, oldest entry first, as the guard's own writer with each
 * entry's sequence number, so that an entry applied twice (a retry after a failure halfway) counts
 * once. Stops at the first entry the grid cannot take yet; the next run starts there again.
 */
final class JournalReplay {

    private final CostGuard guard;
    private final ChargeJournal journal;
    private final CostObserver observer;

    JournalReplay(CostGuard guard, ChargeJournal journal, CostObserver observer) {
        this.guard = guard;
        this.journal = journal;
        this.observer = observer;
    }

    synchronized int run() {
        int done = 0;
        for (ChargeJournal.Entry e = journal.oldest(); e != null && guard.health().quorum(); e = journal.oldest()) {
            try {
                observer.journal(apply(e));
            } catch (QuorumLostException lost) {
                break;
            }
            journal.applied(e);
            done++;
        }
        return done;
    }

    /**
     * Applies one entry: {@code applied}, {@code discarded} (its session is unknown) or
     * {@code repeated} (its key had been charged meanwhile, on another node: nothing was charged).
     */
    private String apply(ChargeJournal.Entry e) {
        ChargeId id = new ChargeId(guard.writer(), e.seq());
        if (e instanceof ChargeJournal.Usage u) {
            String model = u.sessionModel();
            if (model == null) {
                Optional<SessionLedger> l = guard.get(u.sessionId());
                if (l.isEmpty()) {
                    return "discarded";
                }
                model = l.get().model();
            }
            PriceTable.Priced priced = guard.price(model, u.reportedModel(), u.usage());
            ChargeKey key = ChargeKey.orNull(u.chargeKey(), u.reportedModel(), u.usage());
            return counted(guard.charge(u.sessionId(), id, key, priced.costNanoUsd(), priced.tokens(), priced, u.atMillis()));
        }
        if (e instanceof ChargeJournal.Charge c) {
            return counted(guard.charge(c.sessionId(), id, null, c.costNanoUsd(), TokenCounts.ZERO, null, c.atMillis()));
        }
        if (e instanceof ChargeJournal.Spend s) {
            guard.spendOnly(id, s.clientId(), s.costNanoUsd(), s.atMillis());
            return "applied";
        }
        ChargeJournal.End end = (ChargeJournal.End) e;
        return guard.end(end.sessionId(), end.reason(), end.atMillis()).isPresent() ? "applied" : "discarded";
    }

    private static String counted(CostGuard.Usage u) {
        if (u.repeated()) {
            return "repeated";
        }
        return u.ledger() != null && u.applied() ? "applied" : "discarded";
    }
}

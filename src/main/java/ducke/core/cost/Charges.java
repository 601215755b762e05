package ducke.core.cost;

import ducke.core.cluster.ClusterHealth;
import ducke.core.cluster.QuorumLostException;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongFunction;

/**
 * Charging: a usage report or tool fee priced, then charged to the session, the cluster's spend
 * and breaker, and the client's hourly spend, each exactly once ({@link ChargeId}); without a
 * quorum, kept in the {@link ChargeJournal} instead. Thread-safe; all state lives in the stores.
 */
final class Charges {

    private final PriceTable prices;
    private final CostLimits limits;
    private final SessionStore sessions;
    private final SpendStore spend;
    private final SpendView view;
    private final BreakerBroadcast broadcast;
    private final CostObserver observer;
    private final ClusterHealth health;
    private final ChargeJournal journal;
    private final String writer;
    private final SessionEnds ends;

    Charges(PriceTable prices, CostLimits limits, SessionStore sessions, SpendStore spend, SpendView view,
            BreakerBroadcast broadcast, CostObserver observer, ClusterHealth health, ChargeJournal journal, String writer,
            SessionEnds ends) {
        this.prices = prices;
        this.limits = limits;
        this.sessions = sessions;
        this.spend = spend;
        this.view = view;
        this.broadcast = broadcast;
        this.observer = observer;
        this.health = health;
        this.journal = journal;
        this.writer = writer;
        this.ends = ends;
    }

    /** See {@link CostGuard#report(String, String, TokenUsage, long)}. */
    CostGuard.Usage report(String sessionId, String model, TokenUsage usage, long nowMillis) {
        Optional<SessionLedger> current;
        try {
            current = health.quorum() ? sessions.get(sessionId) : null;
        } catch (QuorumLostException e) {
            current = null;
        }
        if (current == null) {
            return journaled(seq -> new ChargeJournal.Usage(new ChargeId(writer, seq), nowMillis, sessionId, null, null, model,
                    usage));
        }
        if (current.isEmpty()) {
            return unknown(null);
        }
        return report(sessionId, current.get().clientId(), current.get().model(), model, usage, nowMillis);
    }

    /** See {@link CostGuard#report(SessionLedger, String, TokenUsage, long)}; {@code clientId} null when not known. */
    CostGuard.Usage report(String sessionId, String clientId, String sessionModel, String reportedModel, TokenUsage usage,
                           long nowMillis) {
        PriceTable.Priced priced = price(sessionModel, reportedModel, usage);
        return chargeOrJournal(sessionId, priced.costNanoUsd(), priced.tokens(), priced, nowMillis,
                seq -> new ChargeJournal.Usage(new ChargeId(writer, seq), nowMillis, sessionId, clientId, sessionModel,
                        reportedModel, usage));
    }

    /** The price of a report: by the model it names, or by the session's model when it names none. */
    PriceTable.Priced price(String sessionModel, String reportedModel, TokenUsage usage) {
        return prices.price(reportedModel == null || reportedModel.isBlank() ? sessionModel : reportedModel, usage);
    }

    /** Charges a fixed tool fee; nothing happens (null) when the tool has no fee. Client and model as for a report. */
    CostGuard.Usage chargeToolFee(String sessionId, String clientId, String sessionModel, String tool, long nowMillis) {
        long fee = prices.toolFeeNanoUsd(tool);
        return fee == 0 ? null : chargeOrJournal(sessionId, fee, TokenCounts.ZERO, null, nowMillis,
                seq -> new ChargeJournal.Charge(new ChargeId(writer, seq), nowMillis, sessionId, clientId, sessionModel, fee));
    }

    /**
     * Charges live, or journals {@code entry} without a quorum. Room in the journal is taken first:
     * the spend part may find no quorum after the session part was applied, and must then be kept;
     * a journal without room refuses before anything is applied.
     */
    private CostGuard.Usage chargeOrJournal(String sessionId, long costNanoUsd, TokenCounts tokens, PriceTable.Priced priced,
                                            long nowMillis, LongFunction<ChargeJournal.Entry> entry) {
        if (!health.quorum()) {
            return journaled(entry);
        }
        ChargeJournal.Room room = journal.reserve();
        if (room == null) {
            throw refused();
        }
        try {
            return charge(sessionId, ChargeId.live(writer), costNanoUsd, tokens, priced, nowMillis, room);
        } catch (QuorumLostException e) {
            return journaled(journal.append(room, entry));
        } finally {
            journal.release(room);
        }
    }

    /** Keeps an entry for later; the journal being full is a refusal ({@link QuorumLostException}). */
    private CostGuard.Usage journaled(LongFunction<ChargeJournal.Entry> entry) {
        return journaled(journal.append(entry));
    }

    private CostGuard.Usage journaled(ChargeJournal.Entry e) {
        if (e == null) {
            throw refused();
        }
        observer.journal("journaled");
        return new CostGuard.Usage(null, false, 0, false, false, null, view.get(), List.of(), null, false, e.seq());
    }

    private QuorumLostException refused() {
        observer.journal("refused");
        return new QuorumLostException("No quorum, and the journal of charges waiting for it is full (or cannot be written)",
                Math.max(1, health.retryAfterMillis() / 1000));
    }

    /**
     * Charges the session, the cluster's spend and the client's spend as {@code id}. Throws
     * {@link QuorumLostException} only when nothing was charged; a live charge whose session part
     * went through but whose spend part found no quorum journals the spend part.
     */
    CostGuard.Usage charge(String sessionId, ChargeId id, long costNanoUsd, TokenCounts tokens, PriceTable.Priced priced,
                           long nowMillis) {
        return charge(sessionId, id, costNanoUsd, tokens, priced, nowMillis, null);
    }

    /** The same, with room taken in the journal for the spend part of a live charge. */
    private CostGuard.Usage charge(String sessionId, ChargeId id, long costNanoUsd, TokenCounts tokens,
                                   PriceTable.Priced priced, long nowMillis, ChargeJournal.Room room) {
        SessionRules.Charge c = sessions.charge(sessionId, id, costNanoUsd, tokens, nowMillis, limits);
        if (c.ledger() == null || !c.applied() && !c.repeated()) {
            return unknown(priced);
        }
        SpendLedger.Charged spent;
        try {
            spent = spend.charge(id, costNanoUsd, nowMillis, limits);
        } catch (QuorumLostException e) {
            if (id.replay()) {
                throw e;
            }
            String clientId = c.ledger().clientId();
            ChargeJournal.Entry kept = journal.append(room, seq -> new ChargeJournal.Spend(new ChargeId(writer, seq), nowMillis,
                    clientId, costNanoUsd));
            observer.journal(kept == null ? "refused" : "journaled");
            return new CostGuard.Usage(c.ledger(), true, costNanoUsd, c.budgetOk(), c.warningNow(), c.endedNow(), view.get(),
                    List.of(), priced, c.afterEnd());
        } finally {
            // the session's own end must be completed even if the cluster spend could not be updated
            if (c.endedNow() != null) {
                ends.ended(c.ledger());
            }
        }
        afterSpend(spent, priced == null ? "tool_fee" : priced.match().label(), priced == null || priced.match().known(),
                costNanoUsd, tokens);
        chargeClient(id, c.ledger().clientId(), costNanoUsd, nowMillis);
        return new CostGuard.Usage(c.ledger(), true, costNanoUsd, c.budgetOk(), c.warningNow(), c.endedNow(),
                spent.snapshot(), warnings(c.ledger(), spent.snapshot(), nowMillis), priced, c.afterEnd());
    }

    /**
     * The client's hourly spend is a gate, not the record of money: a live charge it misses without
     * quorum is let go. A replay is retried instead (it runs when the quorum is back, and a grid that
     * still refuses a moment later would otherwise drop the client's part for good): its other parts
     * are idempotent, this one is charged again.
     */
    private void chargeClient(ChargeId id, String clientId, long costNanoUsd, long nowMillis) {
        try {
            spend.chargeClient(clientId, costNanoUsd, nowMillis, limits);
        } catch (QuorumLostException e) {
            if (id.replay()) {
                throw e;
            }
            // the session, the cluster's spend and the audit have the charge
        }
    }

    /** Adds journaled spend alone as {@code id}: the session part of its charge went through before. */
    void spendOnly(ChargeId id, String clientId, long costNanoUsd, long nowMillis) {
        SpendLedger.Charged spent = spend.charge(id, costNanoUsd, nowMillis, limits);
        afterSpend(spent, "journal", true, costNanoUsd, TokenCounts.ZERO);
        chargeClient(id, clientId, costNanoUsd, nowMillis);
    }

    /**
     * Counts a journaled charge whose session's ledger is gone (it expired during a long partition):
     * the money was spent all the same, so it goes to the cluster's spend and breaker as {@code id},
     * to the client's hourly spend when the entry knew the client, and to the audit as a charge of
     * its own ({@code journal:<writer>#<seq>}).
     */
    void orphan(ChargeId id, String sessionId, String clientId, long costNanoUsd, TokenCounts tokens,
                PriceTable.Priced priced, String sessionModel, long atMillis) {
        SpendLedger.Charged spent = spend.charge(id, costNanoUsd, atMillis, limits);
        String label = priced == null ? "tool_fee" : priced.match().label();
        afterSpend(spent, label, priced == null || priced.match().known(), costNanoUsd, tokens);
        if (clientId != null) {
            chargeClient(id, clientId, costNanoUsd, atMillis);
        }
        String model = priced == null ? sessionModel : priced.match().known() ? priced.match().price().model() : label;
        observer.chargeRecorded(new ChargeRecord(sessionId, "journal:" + id.writer() + "#" + id.seq(), clientId, model, tokens,
                costNanoUsd, false, atMillis, prices.version()));
    }

    private void afterSpend(SpendLedger.Charged spent, String modelLabel, boolean knownModel, long costNanoUsd,
                            TokenCounts tokens) {
        view.offer(spent.snapshot());
        observer.spend(spent.snapshot());
        observer.charged(modelLabel, knownModel, costNanoUsd, tokens);
        if (spent.breakerOpenedNow()) {
            observer.limitReached("circuit_breaker");
            observer.breakerChanged(spent.snapshot(), "spend");
            broadcast.publish(spent.snapshot());
        }
    }

    private CostGuard.Usage unknown(PriceTable.Priced priced) {
        return new CostGuard.Usage(null, false, 0, false, false, null, view.get(), List.of(), priced, false);
    }

    private List<String> warnings(SessionLedger l, SpendLedger.Snapshot s, long nowMillis) {
        List<String> w = new ArrayList<>();
        if (l.costNanoUsd() >= l.maxCostNanoUsd()) {
            w.add(CostGuard.WARNING_BUDGET);
        }
        if (nowMillis >= l.expiresAtMillis()) {
            w.add(CostGuard.WARNING_DURATION);
        }
        if (s.breakerOpenAt(nowMillis)) {
            w.add(CostGuard.WARNING_BREAKER);
        }
        if (s.hourlyNanoUsd() >= limits.maxHourlyCostNanoUsd()) {
            w.add(CostGuard.WARNING_HOURLY);
        }
        return w;
    }
}

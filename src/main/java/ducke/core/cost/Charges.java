package ducke.core.cost;

import ducke.core.cluster.ClusterHealth;
import ducke.core.cluster.QuorumLostException;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
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
    /** Numbers this process's charge keys until charges carry keys of their own. */
    private final AtomicLong chargeSeq = new AtomicLong();

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
            return journaled(seq -> new ChargeJournal.Usage(seq, nowMillis, sessionId, null, model, usage));
        }
        if (current.isEmpty()) {
            return unknown(null);
        }
        return report(sessionId, current.get().model(), model, usage, nowMillis);
    }

    /** See {@link CostGuard#report(String, String, String, TokenUsage, long)}. */
    CostGuard.Usage report(String sessionId, String sessionModel, String reportedModel, TokenUsage usage, long nowMillis) {
        PriceTable.Priced priced = price(sessionModel, reportedModel, usage);
        return chargeOrJournal(sessionId, priced.costNanoUsd(), priced.tokens(), priced, null, nowMillis,
                seq -> new ChargeJournal.Usage(seq, nowMillis, sessionId, sessionModel, reportedModel, usage));
    }

    /** The price of a report: by the model it names, or by the session's model when it names none. */
    PriceTable.Priced price(String sessionModel, String reportedModel, TokenUsage usage) {
        return prices.price(reportedModel == null || reportedModel.isBlank() ? sessionModel : reportedModel, usage);
    }

    /** Charges a fixed tool fee; nothing happens (null) when the tool has no fee. */
    CostGuard.Usage chargeToolFee(String sessionId, String tool, long nowMillis) {
        long fee = prices.toolFeeNanoUsd(tool);
        return fee == 0 ? null : chargeOrJournal(sessionId, fee, TokenCounts.ZERO, null, tool, nowMillis,
                seq -> new ChargeJournal.Charge(seq, nowMillis, sessionId, fee));
    }

    private CostGuard.Usage chargeOrJournal(String sessionId, long costNanoUsd, TokenCounts tokens, PriceTable.Priced priced,
                                            String tool, long nowMillis, LongFunction<ChargeJournal.Entry> entry) {
        if (!health.quorum()) {
            return journaled(entry);
        }
        try {
            return charge(sessionId, ChargeId.live(writer), costNanoUsd, tokens, priced, tool, nowMillis);
        } catch (QuorumLostException e) {
            return journaled(entry);
        }
    }

    /** Keeps an entry for later; the journal being full is a refusal ({@link QuorumLostException}). */
    private CostGuard.Usage journaled(LongFunction<ChargeJournal.Entry> entry) {
        ChargeJournal.Entry e = journal.append(entry);
        if (e == null) {
            observer.journal("refused");
            throw new QuorumLostException("No quorum, and the journal of charges waiting for it is full",
                    Math.max(1, health.retryAfterMillis() / 1000));
        }
        observer.journal("journaled");
        return new CostGuard.Usage(null, false, 0, false, false, null, view.get(), List.of(), null, false, e.seq());
    }

    /**
     * Charges the session, the cluster's spend and the client's spend as {@code id}. Throws
     * {@link QuorumLostException} only when nothing was charged; a live charge whose session part
     * went through but whose spend part found no quorum journals the spend part.
     */
    CostGuard.Usage charge(String sessionId, ChargeId id, long costNanoUsd, TokenCounts tokens, PriceTable.Priced priced,
                           long nowMillis) {
        return charge(sessionId, id, costNanoUsd, tokens, priced, null, nowMillis);
    }

    /** The same; {@code tool} names the tool of a fee (null for usage, or a fee replayed from the journal). */
    private CostGuard.Usage charge(String sessionId, ChargeId id, long costNanoUsd, TokenCounts tokens,
                                   PriceTable.Priced priced, String tool, long nowMillis) {
        SessionRules.Charge c = sessions.charge(sessionId, id, costNanoUsd, tokens, nowMillis, limits);
        if (c.ledger() == null || !c.applied() && !c.repeated()) {
            return unknown(priced);
        }
        if (!c.repeated()) {
            record(c.ledger(), costNanoUsd, tokens, priced, tool, nowMillis);
        }
        SpendLedger.Charged spent;
        try {
            spent = spend.charge(id, costNanoUsd, nowMillis, limits);
        } catch (QuorumLostException e) {
            if (id.replay()) {
                throw e;
            }
            journaled(seq -> new ChargeJournal.Spend(seq, nowMillis, c.ledger().clientId(), costNanoUsd));
            return new CostGuard.Usage(c.ledger(), true, costNanoUsd, c.budgetOk(), c.warningNow(), c.endedNow(), view.get(),
                    List.of(), priced, c.afterEnd());
        } finally {
            // the session's own end must be completed even if the cluster spend could not be updated
            if (c.endedNow() != null) {
                ends.ended(c.ledger());
            }
        }
        chargeClient(c.ledger().clientId(), costNanoUsd, nowMillis);
        afterSpend(spent, priced == null ? "tool_fee" : priced.match().label(), priced == null || priced.match().known(),
                costNanoUsd, tokens);
        return new CostGuard.Usage(c.ledger(), true, costNanoUsd, c.budgetOk(), c.warningNow(), c.endedNow(),
                spent.snapshot(), warnings(c.ledger(), spent.snapshot(), nowMillis), priced, c.afterEnd());
    }

    /**
     * Tells the observer of a charge the session's ledger took (once per charge): the model that
     * priced it (a tool fee: the session's model), keyed uniquely within this process.
     */
    private void record(SessionLedger ledger, long costNanoUsd, TokenCounts tokens, PriceTable.Priced priced, String tool,
                        long nowMillis) {
        String key = (priced == null ? "tool:" + (tool == null ? "fee" : tool) : "charge") + ":" + writer + ":"
                + chargeSeq.incrementAndGet();
        String model = priced == null ? ledger.model() : priced.match().label();
        observer.chargeRecorded(new ChargeRecord(ledger.sessionId(), key, ledger.clientId(), model, tokens, costNanoUsd,
                false, nowMillis, prices.version()));
    }

    /** The client's hourly spend is a gate, not the record of money: a charge it misses without quorum is let go. */
    private void chargeClient(String clientId, long costNanoUsd, long nowMillis) {
        try {
            spend.chargeClient(clientId, costNanoUsd, nowMillis, limits);
        } catch (QuorumLostException e) {
            // the session, the cluster's spend and the audit have the charge
        }
    }

    /** Adds journaled spend alone as {@code id}: the session part of its charge went through before. */
    void spendOnly(ChargeId id, String clientId, long costNanoUsd, long nowMillis) {
        SpendLedger.Charged spent = spend.charge(id, costNanoUsd, nowMillis, limits);
        chargeClient(clientId, costNanoUsd, nowMillis);
        afterSpend(spent, "journal", true, costNanoUsd, TokenCounts.ZERO);
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

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

    /** See {@link CostGuard#report(String, String, TokenUsage, String, long)}. */
    CostGuard.Usage report(String sessionId, String model, TokenUsage usage, String chargeKey, long nowMillis) {
        Optional<SessionLedger> current;
        try {
            current = health.quorum() ? sessions.get(sessionId) : null;
        } catch (QuorumLostException e) {
            current = null;
        }
        if (current == null) {
            return journaledUsage(sessionId, model, usage, chargeKey,
                    seq -> new ChargeJournal.Usage(seq, nowMillis, sessionId, null, model, usage, chargeKey));
        }
        if (current.isEmpty()) {
            return unknown(null);
        }
        return report(sessionId, current.get().model(), model, usage, chargeKey, nowMillis);
    }

    /** See {@link CostGuard#report(String, String, String, TokenUsage, String, long)}. */
    CostGuard.Usage report(String sessionId, String sessionModel, String reportedModel, TokenUsage usage, String chargeKey,
                           long nowMillis) {
        return report(sessionId, sessionModel, reportedModel, usage, chargeKey, null, nowMillis);
    }

    /** The same, settling the reservation {@code holdId} (null: none) in the same steps as the charge. */
    CostGuard.Usage report(String sessionId, String sessionModel, String reportedModel, TokenUsage usage, String chargeKey,
                           String holdId, long nowMillis) {
        PriceTable.Priced priced = price(sessionModel, reportedModel, usage);
        ChargeKey key = ChargeKey.orNull(chargeKey, reportedModel, usage);
        LongFunction<ChargeJournal.Entry> entry =
                seq -> new ChargeJournal.Usage(seq, nowMillis, sessionId, sessionModel, reportedModel, usage, chargeKey);
        if (!health.quorum()) {
            return journaledUsage(sessionId, reportedModel, usage, chargeKey, entry);
        }
        try {
            return charge(sessionId, ChargeId.live(writer), key, priced.costNanoUsd(), priced.tokens(), priced,
                    new How(null, chargeKey, holdId), nowMillis);
        } catch (QuorumLostException e) {
            return journaledUsage(sessionId, reportedModel, usage, chargeKey, entry);
        }
    }

    /**
     * Journals a usage report, unless it is keyed and this node's journal holds its key already:
     * then the answer is that entry's, and nothing more is journaled.
     */
    private CostGuard.Usage journaledUsage(String sessionId, String reportedModel, TokenUsage usage, String chargeKey,
                                           LongFunction<ChargeJournal.Entry> entry) {
        ChargeJournal.Usage pending = chargeKey == null ? null : journal.pending(sessionId, chargeKey);
        if (pending == null) {
            return journaled(entry);
        }
        boolean same = ChargeKey.of(chargeKey, reportedModel, usage).reportHash()
                == ChargeKey.of(chargeKey, pending.reportedModel(), pending.usage()).reportHash();
        return new CostGuard.Usage(null, false, 0, false, false, null, view.get(), List.of(), null, false, pending.seq(),
                same ? ChargeKeys.Seen.SAME_REPORT : ChargeKeys.Seen.OTHER_REPORT);
    }

    /** The price of a report: by the model it names, or by the session's model when it names none. */
    PriceTable.Priced price(String sessionModel, String reportedModel, TokenUsage usage) {
        return prices.price(reportedModel == null || reportedModel.isBlank() ? sessionModel : reportedModel, usage);
    }

    /** Charges a fixed tool fee; nothing happens (null) when the tool has no fee. */
    CostGuard.Usage chargeToolFee(String sessionId, String tool, long nowMillis) {
        long fee = prices.toolFeeNanoUsd(tool);
        return fee == 0 ? null : chargeOrJournal(sessionId, fee, TokenCounts.ZERO, null, nowMillis,
                seq -> new ChargeJournal.Charge(seq, nowMillis, sessionId, fee));
    }

    /**
     * Charges an estimate: a response (or transcription) whose usage never arrived is charged what
     * was reserved for it, priced at the session model's dearest rates, and marked estimated.
     */
    CostGuard.Usage chargeEstimate(String sessionId, String sessionModel, String chargeKey, long costNanoUsd, long nowMillis) {
        return chargeEstimate(sessionId, sessionModel, chargeKey, costNanoUsd, null, nowMillis);
    }

    /** The same, settling the reservation {@code holdId} (null: none). */
    CostGuard.Usage chargeEstimate(String sessionId, String sessionModel, String chargeKey, long costNanoUsd, String holdId,
                                   long nowMillis) {
        How how = new How(sessionModel == null ? "" : sessionModel, chargeKey, holdId);
        return chargeOrJournal(sessionId, costNanoUsd, TokenCounts.ZERO, null, how, nowMillis,
                seq -> new ChargeJournal.Charge(seq, nowMillis, sessionId, costNanoUsd));
    }

    /**
     * More about a charge: for an estimate, the session's model ({@code estimatedModel}, null when
     * the charge is no estimate) and the response's key; the reservation it settles ({@code holdId},
     * null: none).
     */
    record How(String estimatedModel, String chargeKey, String holdId) {
        static final How PLAIN = new How(null, null, null);

        boolean estimate() {
            return estimatedModel != null;
        }
    }

    private CostGuard.Usage chargeOrJournal(String sessionId, long costNanoUsd, TokenCounts tokens, PriceTable.Priced priced,
                                            long nowMillis, LongFunction<ChargeJournal.Entry> entry) {
        return chargeOrJournal(sessionId, costNanoUsd, tokens, priced, How.PLAIN, nowMillis, entry);
    }

    private CostGuard.Usage chargeOrJournal(String sessionId, long costNanoUsd, TokenCounts tokens, PriceTable.Priced priced,
                                            How how, long nowMillis, LongFunction<ChargeJournal.Entry> entry) {
        if (!health.quorum()) {
            if (how.estimate()) {
                observer.estimated(prices.match(how.estimatedModel()).label(), costNanoUsd);
            }
            return journaled(entry);
        }
        try {
            return charge(sessionId, ChargeId.live(writer), keyOf(how, costNanoUsd), costNanoUsd, tokens, priced, how, nowMillis);
        } catch (QuorumLostException e) {
            if (how.estimate()) {
                observer.estimated(prices.match(how.estimatedModel()).label(), costNanoUsd);
            }
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
        return charge(sessionId, id, null, costNanoUsd, tokens, priced, How.PLAIN, nowMillis);
    }

    /**
     * The same, keyed by {@code key} (null: unkeyed). A key the session has been charged already
     * charges nothing at all: neither the session, nor the cluster's spend, nor the client's.
     */
    CostGuard.Usage charge(String sessionId, ChargeId id, ChargeKey key, long costNanoUsd, TokenCounts tokens,
                           PriceTable.Priced priced, long nowMillis) {
        return charge(sessionId, id, key, costNanoUsd, tokens, priced, How.PLAIN, nowMillis);
    }

    private CostGuard.Usage charge(String sessionId, ChargeId id, ChargeKey key, long costNanoUsd, TokenCounts tokens,
                                   PriceTable.Priced priced, How how, long nowMillis) {
        SessionRules.Charge c = sessions.charge(sessionId, id, key, costNanoUsd, tokens, nowMillis, limits);
        if (c.ledger() != null && c.keyRepeated()) {
            if (how.holdId() != null) {
                // charged before: the reservation this attempt brought is given back, not settled twice
                releaseHold(c.ledger().clientId(), how.holdId(), nowMillis);
            }
            return new CostGuard.Usage(c.ledger(), false, 0, c.budgetOk(), false, null, view.get(),
                    warnings(c.ledger(), view.get(), nowMillis), priced, false, 0, c.key());
        }
        if (c.ledger() == null || !c.applied() && !c.repeated()) {
            return unknown(priced);
        }
        SpendLedger.Charged spent;
        try {
            spent = spend.charge(id, costNanoUsd, nowMillis, limits, how.holdId());
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
        chargeClient(c.ledger().clientId(), costNanoUsd, nowMillis, how.holdId());
        if (how.estimate() && c.applied()) {
            observer.estimated(prices.match(how.estimatedModel()).label(), costNanoUsd);
            observer.chargeRecorded(new ChargeRecord(sessionId, how.chargeKey(), c.ledger().clientId(),
                    how.estimatedModel(), TokenCounts.ZERO, costNanoUsd, true, nowMillis, c.ledger().priceVersion()));
        }
        String label = how.estimate() ? prices.match(how.estimatedModel()).label()
                : priced == null ? "tool_fee" : priced.match().label();
        boolean known = how.estimate() ? prices.match(how.estimatedModel()).known() : priced == null || priced.match().known();
        afterSpend(spent, label, known, costNanoUsd, tokens);
        return new CostGuard.Usage(c.ledger(), true, costNanoUsd, c.budgetOk(), c.warningNow(), c.endedNow(),
                spent.snapshot(), warnings(c.ledger(), spent.snapshot(), nowMillis), priced, c.afterEnd());
    }

    /** A fixed-amount charge (an estimate) keyed by its response id, so that it is charged once. */
    private static ChargeKey keyOf(How how, long costNanoUsd) {
        return how.chargeKey() == null || !how.estimate() ? null : ChargeKey.of(how.chargeKey(), costNanoUsd);
    }

    private void releaseHold(String clientId, String holdId, long nowMillis) {
        try {
            spend.release(holdId, nowMillis, limits);
            spend.releaseClient(clientId, holdId, nowMillis, limits);
        } catch (QuorumLostException e) {
            // it lapses at its expiry
        }
    }

    /** The client's hourly spend is a gate, not the record of money: a charge it misses without quorum is let go. */
    private void chargeClient(String clientId, long costNanoUsd, long nowMillis) {
        chargeClient(clientId, costNanoUsd, nowMillis, null);
    }

    private void chargeClient(String clientId, long costNanoUsd, long nowMillis, String releaseHoldId) {
        try {
            spend.chargeClient(clientId, costNanoUsd, nowMillis, limits, releaseHoldId);
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

package ducke.core.cost;

import ducke.testing.MemoryStores.MemorySessions;
import ducke.testing.MemoryStores.MemorySpend;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CostGuardTest {

    /** A minute-aligned wall-clock instant; every time below is an explicit offset from it. */
    private static final long T0 = 1_700_000_040_000L;
    private static final long SECOND = 1_000L;
    private static final long MINUTE = 60_000L;

    private static final CostLimits LIMITS = CostLimits.defaults();
    private static final CostLimits UNENFORCED = new CostLimits(false, LIMITS.maxSessionCostNanoUsd(),
            LIMITS.maxSessionDurationMillis(), LIMITS.warningBasisPoints(), LIMITS.maxConcurrentSessionsPerClient(),
            LIMITS.maxHourlyCostNanoUsd(), LIMITS.hourlyWindowMillis(), LIMITS.breakerThresholdNanoUsd(),
            LIMITS.breakerWindowMillis(), LIMITS.breakerCooldownMillis(), LIMITS.maxClientHourlyCostNanoUsd());

    /** gpt-5: 200k in × $10/1M + 100k out × $30/1M = $2.00 + $3.00, exactly the $5.00 session cap. */
    private static final TokenUsage FIVE_DOLLARS = TokenUsage.totals(200_000, 100_000);
    /** gpt-5: $1.00 + $3.00 = $4.00, 80% of the cap. */
    private static final TokenUsage FOUR_DOLLARS = TokenUsage.totals(100_000, 100_000);
    /** gpt-5: $0.10 + $0.90 = $1.00. */
    private static final TokenUsage ONE_DOLLAR = TokenUsage.totals(10_000, 30_000);

    private static final String BUDGET = "Session budget limit exceeded";
    private static final String DURATION = "Session duration limit exceeded";
    private static final String BREAKER = "System-wide circuit breaker is active";
    private static final String HOURLY = "Hourly cost limit exceeded";

    private static long usd(String amount) {
        return Money.nanoUsd(amount);
    }

    static class RecordingObserver implements CostObserver {
        record Charged(String modelLabel, boolean knownModel, long costNanoUsd, TokenCounts tokens) {
        }

        final List<Charged> charged = Collections.synchronizedList(new ArrayList<>());
        final List<String> limits = Collections.synchronizedList(new ArrayList<>());
        final List<SessionRecord> ended = Collections.synchronizedList(new ArrayList<>());
        final List<SpendLedger.Snapshot> spends = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void charged(String modelLabel, boolean knownModel, long costNanoUsd, TokenCounts tokens) {
            charged.add(new Charged(modelLabel, knownModel, costNanoUsd, tokens));
        }

        @Override
        public void limitReached(String limit) {
            limits.add(limit);
        }

        @Override
        public void sessionEnded(SessionRecord record) {
            ended.add(record);
        }

        @Override
        public void spend(SpendLedger.Snapshot snapshot) {
            spends.add(snapshot);
        }

        long limitCount(String limit) {
            return limits.stream().filter(limit::equals).count();
        }
    }

    static final class RecordingBroadcast implements BreakerBroadcast {
        final List<SpendLedger.Snapshot> published = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void publish(SpendLedger.Snapshot snapshot) {
            published.add(snapshot);
        }
    }

    private final MemorySessions sessions = new MemorySessions();
    private final MemorySpend spend = new MemorySpend();
    private final RecordingObserver observer = new RecordingObserver();
    private final RecordingBroadcast broadcast = new RecordingBroadcast();
    private final AtomicInteger nextId = new AtomicInteger();

    private CostGuard guard(CostLimits limits, PriceTable prices, Supplier<String> ids) {
        return new CostGuard(prices, limits, sessions, spend, new SpendView(), broadcast, observer, "node-a", ids);
    }

    private CostGuard guard(CostLimits limits) {
        return guard(limits, PriceTable.defaults(), () -> String.format("sess_%032x", nextId.incrementAndGet()));
    }

    private CostGuard guard() {
        return guard(LIMITS);
    }

    private static String open(CostGuard g, String clientId, long nowMillis) {
        CostGuard.Start s = g.start(clientId, "gpt-5", "", nowMillis);
        assertThat(s.started()).as("start for %s at %d", clientId, nowMillis).isTrue();
        return s.ledger().sessionId();
    }

    // ---- starting sessions ----

    @Test
    void startOpensASessionWithTheConfiguredCaps() {
        CostGuard g = guard();
        CostGuard.Start s = g.start("client-1", "gpt-realtime", "member-1", T0);

        assertThat(s.started()).isTrue();
        assertThat(s.refusal()).isNull();
        assertThat(s.retryAfterMillis()).isZero();
        SessionLedger l = s.ledger();
        assertThat(l.clientId()).isEqualTo("client-1");
        assertThat(l.nodeName()).isEqualTo("node-a");
        assertThat(l.model()).isEqualTo("gpt-realtime");
        assertThat(l.holder()).isEqualTo("member-1");
        assertThat(l.priceVersion()).isEqualTo(PriceTable.defaults().versioned(1).version()).startsWith("v1-");
        assertThat(l.startedAtMillis()).isEqualTo(T0);
        assertThat(l.expiresAtMillis()).isEqualTo(T0 + 30 * MINUTE);
        assertThat(l.maxCostNanoUsd()).isEqualTo(usd("5.00"));
        assertThat(sessions.get(l.sessionId())).contains(l);
        assertThat(sessions.slotsHeld("client-1")).isEqualTo(1);
        assertThat(g.view().get().asOfMillis()).isEqualTo(T0);
        assertThat(observer.limits).isEmpty();
    }

    @Test
    void refusesNewSessionsWhileTheBreakerIsOpenUntilItCloses() {
        CostGuard g = guard();
        g.trip("manual", T0);

        CostGuard.Start refused = g.start("client-1", "gpt-5", "", T0 + 10 * MINUTE);
        assertThat(refused.started()).isFalse();
        assertThat(refused.ledger()).isNull();
        assertThat(refused.refusal()).isEqualTo(CostGuard.Refusal.CIRCUIT_BREAKER_OPEN);
        assertThat(refused.retryAfterMillis()).as("time to closesAt").isEqualTo(50 * MINUTE);
        assertThat(refused.spend().breakerOpen()).isTrue();
        assertThat(observer.limits).containsExactly("circuit_breaker");
        assertThat(sessions.ledgerCount()).isZero();
        assertThat(sessions.slotsHeld("client-1")).isZero();

        assertThat(g.start("client-1", "gpt-5", "", T0 + 60 * MINUTE - 1).retryAfterMillis()).isEqualTo(1);
        assertThat(g.start("client-1", "gpt-5", "", T0 + 60 * MINUTE).started()).isTrue();
    }

    @Test
    void refusesNewSessionsAtTheHourlyCapUntilEnoughSpendAgesOut() {
        CostGuard g = guard();
        for (int i = 0; i < 10; i++) {
            long t = T0 + i * MINUTE + 10 * SECOND;
            String id = open(g, "spender-" + i, t);
            g.report(id, "gpt-5", FIVE_DOLLARS, t);
        }
        long now = T0 + 20 * MINUTE;

        CostGuard.Start refused = g.start("client-2", "gpt-5", "", now);
        assertThat(refused.refusal()).isEqualTo(CostGuard.Refusal.HOURLY_LIMIT);
        assertThat(refused.spend().hourlyNanoUsd()).isEqualTo(usd("50"));
        // the first $5 (minute 0) leaves the window at 61:00, leaving $45 < $50
        assertThat(refused.retryAfterMillis()).isEqualTo(41 * MINUTE);
        assertThat(observer.limits).contains("hourly");
        assertThat(sessions.slotsHeld("client-2")).isZero();

        assertThat(g.start("client-2", "gpt-5", "", now + refused.retryAfterMillis() - 1).refusal())
                .isEqualTo(CostGuard.Refusal.HOURLY_LIMIT);
        assertThat(g.start("client-2", "gpt-5", "", now + refused.retryAfterMillis()).started()).isTrue();
    }

    @Test
    void breakerIsCheckedBeforeTheHourlyCap() {
        CostGuard g = guard();
        for (int i = 0; i < 10; i++) {
            g.report(open(g, "spender-" + i, T0), "gpt-5", FIVE_DOLLARS, T0);
        }
        g.trip("manual", T0 + SECOND);
        assertThat(g.start("client-2", "gpt-5", "", T0 + 2 * SECOND).refusal()).isEqualTo(CostGuard.Refusal.CIRCUIT_BREAKER_OPEN);
    }

    @Test
    void fourthConcurrentSessionOfAClientIsRefusedOthersAreNot() {
        CostGuard g = guard();
        String first = open(g, "client-1", T0);
        open(g, "client-1", T0);
        open(g, "client-1", T0);

        CostGuard.Start fourth = g.start("client-1", "gpt-5", "", T0 + SECOND);
        assertThat(fourth.started()).isFalse();
        assertThat(fourth.refusal()).isEqualTo(CostGuard.Refusal.CONCURRENT_LIMIT);
        assertThat(fourth.retryAfterMillis()).isZero();
        assertThat(observer.limits).containsExactly("concurrent_sessions");
        assertThat(sessions.ledgerCount()).as("no ledger for a refused session").isEqualTo(3);

        assertThat(g.start("client-2", "gpt-5", "", T0 + SECOND).started()).as("other clients unaffected").isTrue();

        g.end(first, EndReason.API_ENDED, T0 + 2 * SECOND);
        assertThat(g.start("client-1", "gpt-5", "", T0 + 3 * SECOND).started()).as("an ended session frees its slot").isTrue();
    }

    @Test
    void unenforcedLimitsLetEverythingThrough() {
        CostGuard g = guard(UNENFORCED);
        g.trip("manual", T0);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            CostGuard.Start s = g.start("client-1", "gpt-5", "", T0 + i);
            assertThat(s.started()).as("session %d", i + 1).isTrue();
            ids.add(s.ledger().sessionId());
        }
        for (String id : ids) {
            CostGuard.Usage u = g.report(id, "gpt-5", TokenUsage.totals(2_000_000, 0), T0 + SECOND);
            assertThat(u.applied()).isTrue();
            assertThat(u.endedNow()).isNull();
            assertThat(u.ledger().active()).isTrue();
        }
        assertThat(g.refreshSpend(T0 + 2 * SECOND).hourlyNanoUsd()).isEqualTo(usd("120"));
        assertThat(g.start("client-1", "gpt-5", "", T0 + 3 * SECOND).started()).isTrue();
        assertThat(observer.limits).isEmpty();
        assertThat(sessions.slotsHeld("client-1")).isEqualTo(7);
    }

    @Test
    void sessionIdCollisionFreesTheSlotItTook() {
        CostGuard g = guard(LIMITS, PriceTable.defaults(), () -> "sess_" + "0".repeat(32));
        assertThat(g.start("client-1", "gpt-5", "", T0).started()).isTrue();
        assertThatThrownBy(() -> g.start("client-2", "gpt-5", "", T0)).isInstanceOf(IllegalStateException.class);
        assertThat(sessions.slotsHeld("client-2")).isZero();
        assertThat(sessions.ledgerCount()).isEqualTo(1);
    }

    // ---- charging usage ----

    @Test
    void chargeUnderTheCapHasNoWarnings() {
        CostGuard g = guard();
        String id = open(g, "client-1", T0);
        CostGuard.Usage u = g.report(id, "gpt-5", ONE_DOLLAR, T0 + SECOND);

        assertThat(u.applied()).isTrue();
        assertThat(u.callCostNanoUsd()).isEqualTo(usd("1.00"));
        assertThat(u.budgetOk()).isTrue();
        assertThat(u.warningNow()).isFalse();
        assertThat(u.endedNow()).isNull();
        assertThat(u.warnings()).isEmpty();
        assertThat(u.ledger().costNanoUsd()).isEqualTo(usd("1.00"));
        assertThat(u.ledger().remainingBudgetNanoUsd()).isEqualTo(usd("4.00"));
        assertThat(u.priced().match().label()).isEqualTo("gpt-5");
        assertThat(u.spend().hourlyNanoUsd()).isEqualTo(usd("1.00"));
        assertThat(g.view().get().hourlyNanoUsd()).as("the node's view follows the charge").isEqualTo(usd("1.00"));
        assertThat(sessions.releases(id)).isZero();
    }

    @Test
    void chargeReachingTheCapEndsTheSessionWithTheBudgetWarning() {
        CostGuard g = guard();
        String id = open(g, "client-1", T0);
        CostGuard.Usage u = g.report(id, "gpt-5", FIVE_DOLLARS, T0 + SECOND);

        assertThat(u.callCostNanoUsd()).isEqualTo(usd("5.00"));
        assertThat(Money.usd(u.ledger().costNanoUsd()).toPlainString()).isEqualTo("5.00");
        assertThat(u.budgetOk()).isFalse();
        assertThat(u.endedNow()).isEqualTo(EndReason.BUDGET_EXCEEDED);
        assertThat(u.ledger().active()).isFalse();
        assertThat(u.warnings()).containsExactly("Session budget limit exceeded");
        assertThat(observer.limits).containsExactly("session_cost");
    }

    @Test
    void warningAtEightyPercentIsAnEventNotAWarningString() {
        CostGuard g = guard();
        String id = open(g, "client-1", T0);
        CostGuard.Usage u = g.report(id, "gpt-5", FOUR_DOLLARS, T0 + SECOND);
        assertThat(u.warningNow()).isTrue();
        assertThat(u.budgetOk()).isTrue();
        assertThat(u.warnings()).isEmpty();
        assertThat(g.report(id, "gpt-5", TokenUsage.totals(1_000, 0), T0 + 2 * SECOND).warningNow()).isFalse();
    }

    @Test
    void chargeAfterTheDurationCapEndsTheSessionWithTheDurationWarning() {
        CostGuard g = guard();
        String id = open(g, "client-1", T0);
        CostGuard.Usage u = g.report(id, "gpt-5", ONE_DOLLAR, T0 + 30 * MINUTE);

        assertThat(u.applied()).as("money was spent").isTrue();
        assertThat(u.endedNow()).isEqualTo(EndReason.SESSION_TIMEOUT);
        assertThat(u.warnings()).containsExactly("Session duration limit exceeded");
        assertThat(observer.limits).containsExactly("session_duration");
        assertThat(sessions.releases(id)).isEqualTo(1);
    }

    @Test
    void chargeWhileTheBreakerIsOpenCarriesTheBreakerWarning() {
        CostGuard g = guard();
        String id = open(g, "client-1", T0);
        g.trip("manual", T0 + SECOND);
        CostGuard.Usage u = g.report(id, "gpt-5", ONE_DOLLAR, T0 + 2 * SECOND);

        assertThat(u.applied()).isTrue();
        assertThat(u.warnings()).containsExactly("System-wide circuit breaker is active");
        assertThat(u.spend().breakerOpenAt(T0 + 2 * SECOND)).isTrue();
    }

    @Test
    void chargeAtTheHourlyCapCarriesTheHourlyWarning() {
        CostGuard g = guard();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 13; i++) {
            ids.add(open(g, "client-" + (i / 3), T0));
        }
        for (int i = 0; i < 12; i++) {
            CostGuard.Usage u = g.report(ids.get(i), "gpt-5", FOUR_DOLLARS, T0 + i * SECOND);
            assertThat(u.warnings()).as("after $%d", 4 * (i + 1)).isEmpty();
        }
        CostGuard.Usage u = g.report(ids.get(12), "gpt-5", FOUR_DOLLARS, T0 + 12 * SECOND);
        assertThat(u.spend().hourlyNanoUsd()).isEqualTo(usd("52"));
        assertThat(u.warnings()).containsExactly("Hourly cost limit exceeded");
        assertThat(u.endedNow()).as("live sessions go on").isNull();
    }

    @Test
    void warningsComeInTheSeedsOrder() {
        CostGuard g = guard();
        CostGuard.Usage last = null;
        for (int i = 0; i < 10; i++) {
            last = g.report(open(g, "spender-" + i, T0), "gpt-5", FIVE_DOLLARS, T0 + i * SECOND);
        }
        assertThat(last.warnings()).containsExactly(BUDGET, HOURLY);
        assertThat(CostGuard.WARNING_BUDGET).isEqualTo(BUDGET);
        assertThat(CostGuard.WARNING_DURATION).isEqualTo(DURATION);
        assertThat(CostGuard.WARNING_BREAKER).isEqualTo(BREAKER);
        assertThat(CostGuard.WARNING_HOURLY).isEqualTo(HOURLY);
    }

    @Test
    void twentySessionsOfFiveDollarsOpenTheBreakerAndBroadcastOnce() {
        CostGuard g = guard();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 21; i++) {
            ids.add(open(g, "client-" + (i / 3), T0));
        }
        List<CostGuard.Usage> usages = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            usages.add(g.report(ids.get(i), "gpt-5", FIVE_DOLLARS, T0 + i * SECOND));
        }
        CostGuard.Usage nineteenth = usages.get(18);
        assertThat(nineteenth.spend().breakerOpen()).isFalse();
        assertThat(nineteenth.warnings()).containsExactly(BUDGET, HOURLY);

        CostGuard.Usage twentieth = usages.get(19);
        assertThat(twentieth.spend().breakerOpen()).isTrue();
        assertThat(twentieth.spend().breakerNanoUsd()).isEqualTo(usd("100"));
        assertThat(twentieth.warnings()).containsExactly(BUDGET, BREAKER, HOURLY);
        assertThat(broadcast.published).hasSize(1);
        assertThat(broadcast.published.get(0).breakerOpen()).isTrue();
        assertThat(broadcast.published.get(0).breakerCause()).isEqualTo("spend");
        assertThat(observer.limitCount("circuit_breaker")).isEqualTo(1);
        assertThat(observer.limitCount("session_cost")).isEqualTo(20);
        assertThat(g.view().breakerOpen(T0 + 20 * SECOND)).isTrue();

        // the last live session is still charged, without another broadcast
        CostGuard.Usage more = g.report(ids.get(20), "gpt-5", ONE_DOLLAR, T0 + 30 * SECOND);
        assertThat(more.applied()).isTrue();
        assertThat(more.warnings()).contains(BREAKER);
        assertThat(broadcast.published).hasSize(1);
        assertThat(observer.limitCount("circuit_breaker")).isEqualTo(1);

        CostGuard.Start refused = g.start("client-99", "gpt-5", "", T0 + 31 * SECOND);
        assertThat(refused.refusal()).isEqualTo(CostGuard.Refusal.CIRCUIT_BREAKER_OPEN);
        assertThat(refused.retryAfterMillis()).isEqualTo(T0 + 19 * SECOND + 60 * MINUTE - (T0 + 31 * SECOND));
    }

    /** The original service's track_usage(session_id, model, …) on a session started without a model. */
    @Test
    void reportIsPricedByTheModelItNamesNotTheDearerOfTwo() {
        CostGuard g = guard();
        String id = g.start("client-1", "gpt-realtime", "", T0).ledger().sessionId();
        CostGuard.Usage u = g.report(id, "gpt-5", TokenUsage.totals(100_000, 200_000), T0 + SECOND);
        assertThat(u.callCostNanoUsd()).isEqualTo(usd("7.00"));
        assertThat(u.priced().match().label()).isEqualTo("gpt-5");

        String cheap = g.start("client-2", "gpt-5-mini", "", T0).ledger().sessionId();
        CostGuard.Usage dearer = g.report(cheap, "sess-model", "gpt-realtime", TokenUsage.totals(50_000, 100_000), T0);
        assertThat(dearer.callCostNanoUsd()).as("the relay's overload, too").isEqualTo(usd("25.00"));
        assertThat(g.report(cheap, "gpt-5-mini", null, TokenUsage.totals(1_000_000, 500_000), T0).callCostNanoUsd())
                .isEqualTo(usd("10.50"));
    }

    @Test
    void reportsForAnEndedSessionAreRecordedEverywhereWithoutASecondEnd() {
        CostGuard g = guard();
        String id = open(g, "client-1", T0);
        g.report(id, "gpt-5", ONE_DOLLAR, T0 + SECOND);
        g.end(id, EndReason.CLIENT_CLOSED, T0 + 2 * SECOND);
        int recordsAtEnd = observer.ended.size();

        CostGuard.Usage late = g.report(id, "gpt-5", "gpt-5", FOUR_DOLLARS, T0 + 3 * SECOND);
        assertThat(late.applied()).isTrue();
        assertThat(late.afterEnd()).isTrue();
        assertThat(late.callCostNanoUsd()).isEqualTo(usd("4.00"));
        assertThat(late.ledger().costNanoUsd()).isEqualTo(usd("5.00"));
        assertThat(late.ledger().chargedResponses()).isEqualTo(2);
        assertThat(late.ledger().endReason()).isEqualTo(EndReason.CLIENT_CLOSED);
        assertThat(late.ledger().endedAtMillis()).isEqualTo(T0 + 2 * SECOND);
        assertThat(late.ledger().audited()).as("its record goes to the audit again").isFalse();
        assertThat(late.spend().hourlyNanoUsd()).isEqualTo(usd("5.00"));
        assertThat(spend.clientSnapshot("client-1", T0 + 3 * SECOND, LIMITS).hourlyNanoUsd()).isEqualTo(usd("5.00"));
        assertThat(observer.charged).hasSize(2);
        assertThat(observer.ended).as("no second end").hasSize(recordsAtEnd);
        assertThat(sessions.releases(id)).isEqualTo(1);
    }

    @Test
    void aLateChargeCanStillOpenTheBreaker() {
        CostGuard g = guard(LIMITS.withMaxClientHourlyCost(usd("1000")));
        String id = open(g, "client-1", T0);
        g.end(id, EndReason.CLIENT_CLOSED, T0 + SECOND);
        // gpt-realtime, 500k in × $100 = $50, twice
        g.report(id, "gpt-realtime", TokenUsage.totals(500_000, 0), T0 + 2 * SECOND);
        CostGuard.Usage second = g.report(id, "gpt-realtime", TokenUsage.totals(500_000, 0), T0 + 3 * SECOND);
        assertThat(second.spend().breakerOpen()).isTrue();
        assertThat(broadcast.published).hasSize(1);
    }

    @Test
    void aDurationReportIsPricedPerMinute() {
        CostGuard g = guard();
        String id = open(g, "client-1", T0);
        CostGuard.Usage u = g.report(id, "whisper-1", TokenUsage.durationSeconds(new java.math.BigDecimal("90")), T0);
        assertThat(u.callCostNanoUsd()).isEqualTo(usd("0.009"));
        assertThat(u.priced().tokens()).isEqualTo(TokenCounts.ZERO);
        assertThat(observer.charged).containsExactly(new RecordingObserver.Charged("whisper-1", true, usd("0.009"), TokenCounts.ZERO));
    }

    // ---- the per-client hourly cap ----

    @Test
    void aClientAtItsHourlyCapIsRefusedUntilEnoughOfItsSpendAgesOut() {
        CostGuard g = guard();
        g.report(open(g, "client-1", T0 + 10 * SECOND), "gpt-5", FIVE_DOLLARS, T0 + 10 * SECOND);
        g.report(open(g, "client-1", T0 + 5 * MINUTE), "gpt-5", FOUR_DOLLARS, T0 + 5 * MINUTE);
        assertThat(g.start("client-1", "gpt-5", "", T0 + 6 * MINUTE).started()).as("$9 < $10").isTrue();
        g.report(open(g, "client-1", T0 + 7 * MINUTE), "gpt-5", ONE_DOLLAR, T0 + 7 * MINUTE);
        long now = T0 + 20 * MINUTE;

        CostGuard.Start refused = g.start("client-1", "gpt-5", "", now);
        assertThat(refused.refusal()).isEqualTo(CostGuard.Refusal.CLIENT_BUDGET);
        assertThat(refused.clientSpend().hourlyNanoUsd()).isEqualTo(usd("10.00"));
        // the first $5 (minute 0) leaves the window at 61:00, leaving $5 < $10
        assertThat(refused.retryAfterMillis()).isEqualTo(41 * MINUTE);
        assertThat(g.start("client-2", "gpt-5", "", now).started()).as("other clients are not affected").isTrue();
        assertThat(g.start("client-1", "gpt-5", "", now + refused.retryAfterMillis() - 1).refusal())
                .isEqualTo(CostGuard.Refusal.CLIENT_BUDGET);
        assertThat(g.start("client-1", "gpt-5", "", now + refused.retryAfterMillis()).started()).isTrue();
    }

    @Test
    void anHourWithLessRoomThanTheFirstResponseRefusesTheSessionThatCouldNotAnswer() {
        long cent = usd("0.01");
        CostGuard g = guard(LIMITS.withMaxClientHourlyCost(usd("1.00")));
        // $0.99 of the client's $1.00 hour
        String first = open(g, "client-1", T0);
        g.report(first, "gpt-5", TokenUsage.totals(9_000, 30_000), T0);                        // $0.09 + $0.90
        assertThat(spend.clientSnapshot("client-1", T0, LIMITS).hourlyNanoUsd()).isEqualTo(usd("0.99"));

        assertThat(g.reserve("client-1", "gpt-5", "", usd("5.00"), cent, T0 + SECOND).started())
                .as("a first response of exactly the room left fits").isTrue();
        CostGuard.Start refused = g.reserve("client-1", "gpt-5", "", usd("5.00"), cent + 1, T0 + SECOND);
        assertThat(refused.refusal()).isEqualTo(CostGuard.Refusal.CLIENT_BUDGET);
        assertThat(refused.retryAfterMillis()).as("spend alone is under the cap: a short wait, never 0").isEqualTo(SECOND);
        assertThat(observer.limitCount("client_hourly")).isEqualTo(1);
        assertThat(g.start("client-1", "gpt-5", "", T0 + SECOND).started())
                .as("a backend's session reserves nothing up front: room left is enough").isTrue();
        assertThat(g.reserve("client-2", "gpt-5", "", usd("5.00"), cent + 1, T0 + SECOND).started()).isTrue();
    }

    @Test
    void theClustersHourAdmitsARealtimeSessionWithAnyRoomLeft() {
        // the cluster's hourly cap refuses new sessions only; live ones go on past it, so a first
        // response larger than the room left is no reason to refuse (unlike a client's hour)
        CostGuard h = guard();
        for (int i = 0; i < 9; i++) {
            h.report(open(h, "big-" + i, T0), "gpt-5", FIVE_DOLLARS, T0);
        }
        h.report(open(h, "big-9", T0), "gpt-5", TokenUsage.totals(199_000, 100_000), T0);
        assertThat(h.view().get().hourlyNanoUsd()).isEqualTo(usd("49.99"));
        assertThat(h.reserve("client-3", "gpt-5", "", usd("5.00"), usd("0.20"), T0 + SECOND).started()).isTrue();
        h.report(open(h, "big-10", T0 + SECOND), "gpt-5", TokenUsage.totals(1_000, 0), T0 + SECOND);
        assertThat(h.reserve("client-4", "gpt-5", "", usd("5.00"), usd("0.20"), T0 + 2 * SECOND).refusal())
                .as("at the cap").isEqualTo(CostGuard.Refusal.HOURLY_LIMIT);
    }

    @Test
    void theClientCapComesAfterTheClusterGatesAndBeforeTheSlots() {
        CostGuard g = guard(LIMITS.withMaxClientHourlyCost(usd("1.00")));
        String first = open(g, "client-1", T0);
        open(g, "client-1", T0);
        open(g, "client-1", T0);
        g.report(first, "gpt-5", ONE_DOLLAR, T0);
        assertThat(g.start("client-1", "gpt-5", "", T0 + SECOND).refusal()).isEqualTo(CostGuard.Refusal.CLIENT_BUDGET);
        g.trip("manual", T0 + 2 * SECOND);
        assertThat(g.start("client-1", "gpt-5", "", T0 + 3 * SECOND).refusal()).isEqualTo(CostGuard.Refusal.CIRCUIT_BREAKER_OPEN);
    }

    @Test
    void liveSessionsOfAClientOverItsCapGoOn() {
        CostGuard g = guard();
        String a = open(g, "client-1", T0);
        String b = open(g, "client-1", T0);
        String c = open(g, "client-1", T0);
        g.report(a, "gpt-5", FOUR_DOLLARS, T0 + SECOND);
        g.report(b, "gpt-5", FOUR_DOLLARS, T0 + SECOND);
        CostGuard.Usage over = g.report(c, "gpt-5", FOUR_DOLLARS, T0 + SECOND);
        assertThat(over.endedNow()).isNull();
        assertThat(g.start("client-9", "gpt-5", "", T0 + 2 * SECOND).started()).isTrue();
        assertThat(g.report(a, "gpt-5", ONE_DOLLAR, T0 + 3 * SECOND).endedNow()).isEqualTo(EndReason.BUDGET_EXCEEDED);
        assertThat(spend.clientSnapshot("client-1", T0 + 3 * SECOND, LIMITS).hourlyNanoUsd()).isEqualTo(usd("13.00"));
    }

    /**
     * One client alone cannot open the $100 breaker, or even reach the $50 hourly cap, with the
     * defaults: its new sessions stop at $10, and the sessions it holds then can add at most their
     * cap each: $10 + 3 × $5 = $25 in any hour (plus the last report of each session past its cap).
     */
    @Test
    void oneClientAloneStaysWithinItsCapPlusItsLiveSessions() {
        CostGuard g = guard();
        long t = T0;
        long spent = 0;
        for (int round = 0; round < 100; round++, t += SECOND) {
            CostGuard.Start s = g.start("greedy", "gpt-5", "", t);
            if (!s.started()) {
                assertThat(s.refusal()).isIn(CostGuard.Refusal.CLIENT_BUDGET, CostGuard.Refusal.CONCURRENT_LIMIT);
                continue;
            }
            // $0.99 + $3.99 = $4.98 each: live, just under the session cap
            spent += g.report(s.ledger().sessionId(), "gpt-5", TokenUsage.totals(99_000, 133_000), t).callCostNanoUsd();
        }
        assertThat(spent).isLessThanOrEqualTo(usd("10") + 3 * usd("5"));
        assertThat(g.view().get().breakerOpen()).isFalse();
        assertThat(g.view().get().hourlyNanoUsd()).isLessThan(LIMITS.maxHourlyCostNanoUsd());
        assertThat(g.start("other", "gpt-5", "", t).started()).isTrue();
    }

    @Test
    void reportWithoutAModelUsesTheSessionsModel() {
        CostGuard g = guard();
        String id = g.start("client-1", "gpt-5-mini", "", T0).ledger().sessionId();
        CostGuard.Usage u = g.report(id, null, TokenUsage.totals(100_000, 100_000), T0 + SECOND);
        assertThat(u.callCostNanoUsd()).isEqualTo(usd("1.80"));
        assertThat(u.priced().match().label()).isEqualTo("gpt-5-mini");
        assertThat(g.report(id, "  ", TokenUsage.totals(100_000, 100_000), T0 + 2 * SECOND).callCostNanoUsd())
                .isEqualTo(usd("1.80"));
    }

    @Test
    void observerIsToldOfEveryChargeWithItsModelLabel() {
        CostGuard g = guard();
        String id = open(g, "client-1", T0);
        g.report(id, "GPT-5-2025-08-07", TokenUsage.totals(1_000, 1_000), T0 + SECOND);
        g.report(id, "mystery-model", TokenUsage.totals(1_000, 1_000), T0 + 2 * SECOND);

        assertThat(observer.charged).containsExactly(
                new RecordingObserver.Charged("gpt-5", true, usd("0.04"), TokenCounts.of(1_000, 0, 0, 1_000, 0)),
                new RecordingObserver.Charged("unknown", false, usd("0.30"), TokenCounts.of(1_000, 0, 0, 1_000, 0)));
        assertThat(observer.spends).isNotEmpty();
        assertThat(observer.spends.get(observer.spends.size() - 1).hourlyNanoUsd()).isEqualTo(usd("0.34"));
    }

    @Test
    void toolFeeIsChargedToTheSessionAndTheHour() {
        PriceTable prices = new PriceTable(List.copyOf(PriceTable.defaults().models().values()), Map.of("web_search", usd("0.01")));
        CostGuard g = guard(LIMITS, prices, () -> String.format("sess_%032x", nextId.incrementAndGet()));
        String id = open(g, "client-1", T0);

        CostGuard.Usage u = g.chargeToolFee(id, "web_search", T0 + SECOND);
        assertThat(u.applied()).isTrue();
        assertThat(u.callCostNanoUsd()).isEqualTo(10_000_000L);
        assertThat(u.ledger().costNanoUsd()).isEqualTo(10_000_000L);
        assertThat(u.ledger().tokens()).isEqualTo(TokenCounts.ZERO);
        assertThat(u.priced()).isNull();
        assertThat(u.spend().hourlyNanoUsd()).isEqualTo(10_000_000L);
        assertThat(observer.charged).containsExactly(new RecordingObserver.Charged("tool_fee", true, 10_000_000L, TokenCounts.ZERO));

        assertThat(g.chargeToolFee(id, "calculator", T0 + 2 * SECOND)).as("a tool without a fee").isNull();
        assertThat(spend.charges()).isEqualTo(1);
    }

    @Test
    void unknownSessionGetsAUsageWithoutALedgerAndNothingIsCharged() {
        CostGuard g = guard();
        CostGuard.Usage u = g.report("sess_" + "f".repeat(32), "gpt-5", ONE_DOLLAR, T0);
        assertThat(u.ledger()).isNull();
        assertThat(u.applied()).isFalse();
        assertThat(u.callCostNanoUsd()).isZero();
        assertThat(u.budgetOk()).isFalse();
        assertThat(u.warnings()).isEmpty();
        assertThat(spend.charges()).isZero();
        assertThat(observer.charged).isEmpty();

        assertThat(g.end("sess_" + "f".repeat(32), EndReason.API_ENDED, T0)).isEmpty();
        assertThat(g.get("sess_" + "f".repeat(32))).isEmpty();
    }

    // ---- ending sessions ----

    @Test
    void budgetEndReleasesTheSlotExactlyOnce() {
        CostGuard g = guard();
        String id = open(g, "client-1", T0);
        g.report(id, "gpt-5", FIVE_DOLLARS, T0 + SECOND);
        assertThat(sessions.releases(id)).isEqualTo(1);
        assertThat(sessions.slotsHeld("client-1")).isZero();

        Optional<SessionStore.Ended> again = g.end(id, EndReason.API_ENDED, T0 + 2 * SECOND);
        assertThat(again).isPresent();
        assertThat(again.get().endedNow()).isFalse();
        assertThat(again.get().ledger().endReason()).isEqualTo(EndReason.BUDGET_EXCEEDED);

        CostGuard.Usage late = g.report(id, "gpt-5", ONE_DOLLAR, T0 + 3 * SECOND);
        assertThat(late.applied()).as("money that was spent is recorded").isTrue();
        assertThat(late.afterEnd()).isTrue();
        assertThat(late.endedNow()).isNull();
        assertThat(late.ledger().costNanoUsd()).isEqualTo(usd("6.00"));
        assertThat(spend.charges()).isEqualTo(2);

        assertThat(sessions.releases(id)).as("no second end").isEqualTo(1);
        assertThat(observer.ended).hasSize(1);
        assertThat(observer.ended.get(0).endReason()).isEqualTo(EndReason.BUDGET_EXCEEDED);
        assertThat(observer.ended.get(0).costNanoUsd()).isEqualTo(usd("5.00"));
        assertThat(observer.limitCount("session_cost")).isEqualTo(1);
    }

    @Test
    void apiEndReleasesTheSlotExactlyOnceAndTheFirstReasonWins() {
        CostGuard g = guard();
        String id = open(g, "client-1", T0);
        g.report(id, "gpt-5", ONE_DOLLAR, T0 + SECOND);

        SessionStore.Ended first = g.end(id, EndReason.API_ENDED, T0 + 10 * SECOND).orElseThrow();
        assertThat(first.endedNow()).isTrue();
        assertThat(first.ledger().endReason()).isEqualTo(EndReason.API_ENDED);
        assertThat(first.ledger().endedAtMillis()).isEqualTo(T0 + 10 * SECOND);

        SessionStore.Ended second = g.end(id, EndReason.ADMIN_ENDED, T0 + 20 * SECOND).orElseThrow();
        assertThat(second.endedNow()).isFalse();
        assertThat(second.ledger().endReason()).isEqualTo(EndReason.API_ENDED);

        assertThat(sessions.releases(id)).isEqualTo(1);
        assertThat(sessions.slotsHeld("client-1")).isZero();
        assertThat(observer.ended).hasSize(1);
        SessionRecord r = observer.ended.get(0);
        assertThat(r.sessionId()).isEqualTo(id);
        assertThat(r.endReason()).isEqualTo(EndReason.API_ENDED);
        assertThat(r.costNanoUsd()).isEqualTo(usd("1.00"));
        assertThat(r.durationMillis()).isEqualTo(10 * SECOND);
        assertThat(observer.limits).isEmpty();
    }

    @Test
    void timerEndAtTheDurationCapIsReportedAsADurationLimit() {
        CostGuard g = guard();
        String id = open(g, "client-1", T0);
        SessionLedger l = g.get(id).orElseThrow();
        assertThat(SessionRules.expired(l, T0 + 30 * MINUTE, g.limits())).isTrue();

        assertThat(g.end(id, EndReason.SESSION_TIMEOUT, T0 + 30 * MINUTE).orElseThrow().endedNow()).isTrue();
        assertThat(observer.limits).containsExactly("session_duration");
        assertThat(sessions.releases(id)).isEqualTo(1);
        assertThat(g.end(id, EndReason.SESSION_TIMEOUT, T0 + 31 * MINUTE).orElseThrow().endedNow()).isFalse();
        assertThat(observer.limits).containsExactly("session_duration");
        assertThat(sessions.releases(id)).isEqualTo(1);
    }

    @Test
    void everyLimitIsNamedToTheObserver() {
        CostGuard spent = guard(LIMITS.withMaxClientHourlyCost(usd("1.00")));
        spent.report(open(spent, "client-5", T0), "gpt-5", ONE_DOLLAR, T0);
        spent.start("client-5", "gpt-5", "", T0);
        CostGuard g = guard();
        for (int i = 0; i < 3; i++) {
            open(g, "client-1", T0);
        }
        g.start("client-1", "gpt-5", "", T0);
        String timed = open(g, "client-2", T0);
        g.report(timed, "gpt-5", ONE_DOLLAR, T0 + 30 * MINUTE);
        for (int i = 0; i < 10; i++) {
            g.report(open(g, "client-3-" + i, T0 + 30 * MINUTE), "gpt-5", FIVE_DOLLARS, T0 + 30 * MINUTE);
        }
        g.start("client-4", "gpt-5", "", T0 + 31 * MINUTE);
        g.trip("manual", T0 + 32 * MINUTE);
        g.start("client-4", "gpt-5", "", T0 + 33 * MINUTE);

        assertThat(observer.limits).containsExactlyInAnyOrder(
                "concurrent_sessions", "session_duration",
                "session_cost", "session_cost", "session_cost", "session_cost", "session_cost",
                "session_cost", "session_cost", "session_cost", "session_cost", "session_cost",
                "hourly", "circuit_breaker", "client_hourly");
    }

    // ---- the breaker by hand ----

    @Test
    void tripAndResetAreBroadcastAndForcedIntoTheView() {
        CostGuard g = guard();
        SpendLedger.Snapshot tripped = g.trip("billing alert", T0);
        assertThat(tripped.breakerOpen()).isTrue();
        assertThat(tripped.breakerCause()).isEqualTo("billing alert");
        assertThat(g.view().breakerOpen(T0 + SECOND)).isTrue();
        assertThat(g.start("client-1", "gpt-5", "", T0 + MINUTE).refusal()).isEqualTo(CostGuard.Refusal.CIRCUIT_BREAKER_OPEN);

        SpendLedger.Snapshot reset = g.resetBreaker(T0 + 2 * MINUTE);
        assertThat(reset.breakerOpen()).isFalse();
        assertThat(g.view().breakerOpen(T0 + 2 * MINUTE)).isFalse();
        assertThat(broadcast.published).extracting(SpendLedger.Snapshot::breakerOpen).containsExactly(true, false);
        assertThat(g.start("client-1", "gpt-5", "", T0 + 3 * MINUTE).started()).isTrue();
    }

    @Test
    void resetIsNotUndoneByTheSpendThatOpenedTheBreaker() {
        CostGuard g = guard();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 21; i++) {
            ids.add(open(g, "client-" + (i / 3), T0));
        }
        for (int i = 0; i < 20; i++) {
            g.report(ids.get(i), "gpt-5", FIVE_DOLLARS, T0 + i * SECOND);
        }
        g.resetBreaker(T0 + 2 * MINUTE);
        CostGuard.Usage u = g.report(ids.get(20), "gpt-5", ONE_DOLLAR, T0 + 3 * MINUTE);
        assertThat(u.spend().breakerOpen()).isFalse();
        assertThat(u.spend().breakerNanoUsd()).isEqualTo(usd("1.00"));
        assertThat(u.spend().hourlyNanoUsd()).isEqualTo(usd("101.00"));
        assertThat(u.warnings()).containsExactly(HOURLY);
        assertThat(broadcast.published).hasSize(2);
    }
}

package ducke.cluster;

import ducke.core.cost.CostGuard;
import ducke.core.cost.CostLimits;
import ducke.core.cost.EndReason;
import ducke.core.cost.Money;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.TokenUsage;
import ducke.testing.MutableClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** Charges from many threads on three real members at once stay exact and atomic. */
class ClusterCostTest {

    /** Session cap $5, breaker far away so it stays out of the way. */
    private static final CostLimits LIMITS = new CostLimits(true, Money.nanoUsd("5.00"), 30 * 60_000L, 8000, 1000,
            Money.nanoUsd("100000"), 3_600_000L, Money.nanoUsd("100000"), 3_600_000L, 3_600_000L, Money.nanoUsd("100000"));
    private static final MutableClock CLOCK = MutableClock.at("2026-11-27T10:00:00Z");
    /** gpt-5, 1000 input tokens: exactly one cent. */
    private static final TokenUsage ONE_CENT = TokenUsage.totals(1_000, 0);

    private static CostGrid grid;

    @BeforeAll
    static void start() throws Exception {
        grid = new CostGrid(Members.start(3), LIMITS, CLOCK);
    }

    @AfterAll
    static void stop() {
        grid.nodes.forEach(ClusterNode::stop);
    }

    private static List<CostGuard.Usage> chargeConcurrently(List<String> sessions, int charges) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(12);
        try {
            List<Future<CostGuard.Usage>> futures = new ArrayList<>();
            for (int i = 0; i < charges; i++) {
                CostGuard guard = grid.guards.get(i % 3);
                String session = sessions.get(i % sessions.size());
                futures.add(pool.submit(() -> guard.report(session, "gpt-5", ONE_CENT, CLOCK.millis())));
            }
            List<CostGuard.Usage> results = new ArrayList<>();
            for (Future<CostGuard.Usage> f : futures) {
                results.add(f.get());
            }
            return results;
        } finally {
            pool.shutdown();
        }
    }

    /** The 500th cent ends the session; the 100 that arrive after it are recorded, never dropped. */
    @Test
    void concurrentChargesOfOneSessionAreExactAndNeverSeeTheSameTotal() throws Exception {
        long now = CLOCK.millis();
        long hourlyBefore = grid.guards.get(0).refreshSpend(now).hourlyNanoUsd();
        String id = grid.guards.get(1).start("203.0.113.10", "gpt-5", "", now).ledger().sessionId();

        List<CostGuard.Usage> results = chargeConcurrently(List.of(id), 600);

        assertThat(results).allMatch(CostGuard.Usage::applied);
        List<Long> totals = new ArrayList<>(results.stream().map(u -> u.ledger().costNanoUsd()).toList());
        Collections.sort(totals);
        for (int k = 1; k <= 600; k++) {
            assertThat(totals.get(k - 1)).isEqualTo(k * 10_000_000L);
        }
        for (CostGuard.Usage u : results) {
            boolean atOrPastCap = u.ledger().costNanoUsd() >= Money.nanoUsd("5.00");
            assertThat(u.budgetOk()).isEqualTo(!atOrPastCap);
            assertThat(u.afterEnd()).isEqualTo(u.ledger().costNanoUsd() > Money.nanoUsd("5.00"));
        }
        assertThat(results.stream().filter(u -> u.endedNow() != null).map(CostGuard.Usage::endedNow))
                .containsExactly(EndReason.BUDGET_EXCEEDED);
        assertThat(results.stream().filter(CostGuard.Usage::afterEnd)).hasSize(100);
        assertThat(results.stream().filter(CostGuard.Usage::warningNow)).hasSize(1);
        SessionLedger after = grid.guards.get(2).get(id).orElseThrow();
        assertThat(after.costNanoUsd()).isEqualTo(Money.nanoUsd("6.00"));
        assertThat(after.chargedResponses()).isEqualTo(600);
        assertThat(after.endReason()).isEqualTo(EndReason.BUDGET_EXCEEDED);
        assertThat(grid.guards.get(0).refreshSpend(now).hourlyNanoUsd() - hourlyBefore).isEqualTo(Money.nanoUsd("6.00"));
    }

    @Test
    void concurrentChargesOfManySessionsAddUpToTheNanoDollarInTheHour() throws Exception {
        long now = CLOCK.millis();
        long hourlyBefore = grid.guards.get(0).refreshSpend(now).hourlyNanoUsd();
        List<String> sessions = new ArrayList<>();
        for (int s = 0; s < 9; s++) {
            sessions.add(grid.guards.get(s % 3).start("203.0.113.2" + s, "gpt-5", "", now).ledger().sessionId());
        }
        List<CostGuard.Usage> results = chargeConcurrently(sessions, 450);

        assertThat(results).allMatch(CostGuard.Usage::applied);
        List<Long> hourlyTotals = results.stream().map(u -> u.spend().hourlyNanoUsd()).sorted().toList();
        assertThat(hourlyTotals).doesNotHaveDuplicates();
        assertThat(grid.guards.get(1).refreshSpend(now).hourlyNanoUsd() - hourlyBefore).isEqualTo(Money.nanoUsd("4.50"));
        for (String id : sessions) {
            assertThat(grid.guards.get(0).get(id).orElseThrow().costNanoUsd()).isEqualTo(Money.nanoUsd("0.50"));
        }
    }
}

package ducke.cluster;

import com.hazelcast.core.EntryView;
import ducke.core.cost.ClientSpend;
import ducke.core.cost.CostGuard;
import ducke.core.cost.CostLimits;
import ducke.core.cost.Money;
import ducke.core.cost.TokenUsage;
import ducke.testing.MutableClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** One client's hourly spend on real members: charged from any node, gated on every node, gone when idle. */
class ClientSpendClusterTest {

    private static final CostLimits LIMITS = CostLimits.defaults();
    private static final MutableClock CLOCK = MutableClock.at("2026-11-27T10:00:00Z");
    /** gpt-5: 200k in × $10/1M + 100k out × $30/1M = $5.00, the session cap. */
    private static final TokenUsage FIVE_DOLLARS = TokenUsage.totals(200_000, 100_000);

    private static CostGrid grid;

    @BeforeAll
    static void start() throws Exception {
        grid = new CostGrid(Members.start(2), LIMITS, CLOCK);
    }

    @AfterAll
    static void stop() {
        grid.nodes.forEach(ClusterNode::stop);
    }

    private static CostGuard guard(int i) {
        return grid.guards.get(i);
    }

    private static EntryView<String, ClientSpend> entry(String client) {
        return grid.nodes.get(0).hazelcast().<String, ClientSpend>getMap(HazelcastFactory.CLIENT_SPEND_MAP).getEntryView(client);
    }

    @Test
    void spendChargedOnTwoNodesAddsUpAndGatesTheClientOnBoth() {
        String client = "2001:db8:1:2::/64";
        long now = CLOCK.millis();
        String a = guard(0).start(client, "gpt-5", "", now).ledger().sessionId();
        String b = guard(1).start(client, "gpt-5", "", now).ledger().sessionId();
        guard(1).report(a, null, FIVE_DOLLARS, now);
        guard(0).report(b, null, FIVE_DOLLARS, now);

        for (int i = 0; i < 2; i++) {
            CostGuard.Start refused = guard(i).start(client, "gpt-5", "", now + 1_000);
            assertThat(refused.refusal()).isEqualTo(CostGuard.Refusal.CLIENT_BUDGET);
            assertThat(refused.clientSpend().hourlyNanoUsd()).isEqualTo(Money.nanoUsd("10.00"));
            assertThat(refused.retryAfterMillis()).as("the minute of the spend leaves the window at 11:01")
                    .isEqualTo(61 * 60_000L - 1_000);
        }
        assertThat(guard(0).start("2001:db8:1:3::/64", "gpt-5", "", now + 1_000).started()).isTrue();
    }

    @Test
    void anIdleClientsEntryExpiresWhenItsLastSpendLeavesTheWindow() {
        String client = "198.51.100.77";
        long now = CLOCK.millis();
        guard(0).report(guard(0).start(client, "gpt-5", "", now).ledger().sessionId(), null, TokenUsage.totals(1_000, 0), now);
        EntryView<String, ClientSpend> view = entry(client);
        assertThat(view).isNotNull();
        // charged at 10:00:00.000: the minute bucket counts until 11:01
        assertThat(view.getTtl()).isEqualTo(61 * 60_000L);
        assertThat(view.getValue().snapshot(now, LIMITS).hourlyNanoUsd()).isEqualTo(Money.nanoUsd("0.01"));
    }

    @Test
    void concurrentChargesOfOneClientFromBothNodesAreExact() throws Exception {
        String client = "203.0.113.88";
        long now = CLOCK.millis();
        List<String> sessions = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            sessions.add(guard(i).start(client, "gpt-5", "", now).ledger().sessionId());
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                CostGuard g = guard(i % 2);
                String id = sessions.get(i % 2);
                done.add(pool.submit(() -> g.report(id, null, TokenUsage.totals(1_000, 0), now)));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        assertThat(grid.nodes.get(1).spendStore().clientSnapshot(client, now, LIMITS).hourlyNanoUsd())
                .as("200 cents").isEqualTo(Money.nanoUsd("2.00"));
    }

    @Test
    void spendAgesOutOfTheClientsHourOnTheInjectedClock() {
        String client = "203.0.113.99";
        long start = CLOCK.millis();
        String id = guard(0).start(client, "gpt-5", "", start).ledger().sessionId();
        guard(0).report(id, null, FIVE_DOLLARS, start);
        String other = guard(1).start(client, "gpt-5", "", start).ledger().sessionId();
        guard(1).report(other, null, FIVE_DOLLARS, start);
        long later = start + Duration.ofMinutes(61).toMillis();
        assertThat(grid.nodes.get(0).spendStore().clientSnapshot(client, later - 1, LIMITS).hourlyNanoUsd())
                .isEqualTo(Money.nanoUsd("10.00"));
        assertThat(grid.nodes.get(0).spendStore().clientSnapshot(client, later, LIMITS).hourlyNanoUsd()).isZero();
        assertThat(guard(1).start(client, "gpt-5", "", later).started()).isTrue();
    }
}

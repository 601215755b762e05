package ducke.cluster;

import ducke.core.cost.BudgetLimits;
import ducke.core.cost.BudgetOverride;
import ducke.core.cost.BudgetStore;
import ducke.core.cost.BudgetWindows;
import ducke.core.cost.ClientBudget;
import ducke.testing.Poll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** Clients' budgets in a grid of real members: charges from every member add up, and every member learns of an override. */
class BudgetStoreClusterTest {

    private static final long NOW = Instant.parse("2026-12-06T10:00:00Z").toEpochMilli();
    private static final BudgetWindows W = BudgetWindows.of(NOW, ZoneOffset.UTC);
    private static final long USD = 1_000_000_000L;

    private final List<ClusterNode> nodes = new ArrayList<>();

    @AfterEach
    void stop() {
        nodes.forEach(ClusterNode::terminate);
    }

    @Test
    void everyMemberLearnsOfAnOverrideSetOnAnother() throws Exception {
        nodes.addAll(Members.start(3));
        List<BudgetStore> stores = nodes.stream().map(ClusterNode::budgetStore).toList();
        assertThat(stores).allMatch(s -> !s.anyOverride());
        stores.get(1).override("user-1", new BudgetOverride(USD, BudgetOverride.INHERIT, BudgetOverride.INHERIT, NOW), NOW, W);
        Poll.until("every member knows budgets apply", Duration.ofSeconds(20), Duration.ofMillis(20),
                () -> stores.stream().allMatch(BudgetStore::anyOverride));
        // a member that joins later reads the map once
        nodes.add(Members.another(nodes.get(0)));
        assertThat(nodes.get(3).budgetStore().anyOverride()).isTrue();
    }

    @Test
    void reservationsAndChargesFromEveryMemberAddUpAndStayWithinTheDay() throws Exception {
        nodes.addAll(Members.start(2));
        BudgetLimits tenADay = new BudgetLimits(10 * USD, BudgetLimits.NONE, BudgetLimits.NONE);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<Long>> taken = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            BudgetStore s = nodes.get(i % 2).budgetStore();
            String hold = "h-" + i;
            taken.add(pool.submit(() -> {
                long got = s.reserve("user-2", hold, USD / 2, USD / 2, NOW, NOW + 60_000, W, tenADay);
                if (got > 0) {
                    s.charge("user-2", got, NOW, W, hold);
                }
                return got;
            }));
        }
        long sum = 0;
        for (Future<Long> f : taken) {
            sum += f.get();
        }
        pool.shutdown();
        assertThat(sum).as("twenty halves of a dollar fit a ten-dollar day, no more").isEqualTo(10 * USD);
        ClientBudget b = nodes.get(0).budgetStore().get("user-2");
        assertThat(b.daySpend(W)).isEqualTo(10 * USD);
        assertThat(b.holds().isEmpty()).isTrue();
    }
}

package ducke.core.cost;

import ducke.core.cluster.ClusterHealth;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The audit hears of every charge a session's ledger takes, once, priced by the model that priced it. */
class ChargeRecordsTest {

    private static final long T0 = 1_700_000_040_000L;
    /** 100k in, 100k out: gpt-5 4.00 USD, gpt-realtime 30.00 USD. */
    private static final TokenUsage USAGE = TokenUsage.totals(100_000, 100_000);

    private final ducke.testing.MemoryStores.MemorySessions sessions = new ducke.testing.MemoryStores.MemorySessions();
    private final ducke.testing.MemoryStores.MemorySpend spend = new ducke.testing.MemoryStores.MemorySpend();
    private final ClusterHealth health = new ClusterHealth(2, 3, 3, 15_000);
    private final AtomicInteger ids = new AtomicInteger();
    private final List<ChargeRecord> records = Collections.synchronizedList(new ArrayList<>());
    private final PriceTable prices = new PriceTable(List.copyOf(PriceTable.defaults().models().values()),
            Map.of("web_search", Money.nanoUsd("0.01")));
    private final CostGuard guard = new CostGuard(prices, CostLimits.defaults(), sessions, spend, new SpendView(),
            new CostGuardTest.RecordingBroadcast(), new CostGuardTest.RecordingObserver() {
                @Override
                public void chargeRecorded(ChargeRecord record) {
                    records.add(record);
                }
            }, "node-a", () -> "sess_" + ids.incrementAndGet(), health, new ChargeJournal(10), "node-a/1");

    private String started(String model) {
        return guard.start("client-1", model, "", T0).ledger().sessionId();
    }

    @Test
    void aReportNamingAModelIsRecordedUnderThatModelNotTheSessions() {
        String id = started("gpt-realtime");
        guard.report(id, "gpt-5", USAGE, T0 + 1_000);
        guard.report(id, null, TokenUsage.totals(1_000, 0), T0 + 2_000);

        assertThat(records).hasSize(2);
        ChargeRecord gpt5 = records.get(0);
        assertThat(gpt5.sessionId()).isEqualTo(id);
        assertThat(gpt5.clientId()).isEqualTo("client-1");
        assertThat(gpt5.model()).isEqualTo("gpt-5");
        assertThat(gpt5.costNanoUsd()).isEqualTo(Money.nanoUsd("4.00"));
        assertThat(gpt5.tokens()).isEqualTo(TokenCounts.of(100_000, 0, 0, 100_000, 0));
        assertThat(gpt5.estimated()).isFalse();
        assertThat(gpt5.atMillis()).isEqualTo(T0 + 1_000);
        assertThat(gpt5.priceVersion()).isEqualTo(prices.versioned(1).version());
        assertThat(records.get(1).model()).as("no model named: the session's").isEqualTo("gpt-realtime");
        assertThat(records.get(1).chargeKey()).isNotEqualTo(gpt5.chargeKey());
    }

    @Test
    void aDatedSnapshotIsRecordedAsTheConfiguredModelThatPricedItAndAnUnknownModelAsUnknown() {
        String id = started("gpt-realtime");
        guard.report(id, "gpt-5-2025-08-07", USAGE, T0);
        guard.report(id, "gpt-9", TokenUsage.totals(10, 10), T0);
        assertThat(records).extracting(ChargeRecord::model).containsExactly("gpt-5", PriceTable.UNKNOWN);
    }

    @Test
    void aToolFeeIsRecordedUnderTheSessionsModelWithTheToolInItsKey() {
        String id = started("gpt-5-mini");
        guard.chargeToolFee(id, "web_search", T0);
        assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.model()).isEqualTo("gpt-5-mini");
            assertThat(r.chargeKey()).startsWith("tool:web_search:");
            assertThat(r.costNanoUsd()).isEqualTo(Money.nanoUsd("0.01"));
            assertThat(r.tokens()).isEqualTo(TokenCounts.ZERO);
        });
    }

    @Test
    void nothingIsRecordedForAnUnknownSessionOrAChargeWaitingInTheJournal() {
        guard.report("sess_unknown", "gpt-5", USAGE, T0);
        String id = started("gpt-5");
        health.membersSeen(1);
        sessions.quorum.set(false);
        spend.quorum.set(false);
        assertThat(guard.report(id, "gpt-5", USAGE, T0).journaled()).isTrue();
        assertThat(records).isEmpty();

        sessions.quorum.set(true);
        spend.quorum.set(true);
        health.membersSeen(3);
        assertThat(guard.replayJournal()).isEqualTo(1);
        assertThat(guard.replayJournal()).isZero();
        assertThat(records).as("the replay, once").singleElement()
                .satisfies(r -> assertThat(r.costNanoUsd()).isEqualTo(Money.nanoUsd("4.00")));
    }
}

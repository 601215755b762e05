package ducke.cluster;

import com.hazelcast.internal.serialization.Data;
import com.hazelcast.internal.serialization.SerializationService;
import com.hazelcast.internal.serialization.impl.HeapData;
import com.hazelcast.nio.serialization.HazelcastSerializationException;
import com.hazelcast.spi.impl.SerializationServiceSupport;
import ducke.core.cost.BudgetLimits;
import ducke.core.cost.BudgetOverride;
import ducke.core.cost.BudgetWindows;
import ducke.core.cost.ChargeId;
import ducke.core.cost.ChargeKey;
import ducke.core.cost.ChargeKeys;
import ducke.core.cost.ChargeRecord;
import ducke.core.cost.ClientBudget;
import ducke.core.cost.ClientSpend;
import ducke.core.cost.CostLimits;
import ducke.core.cost.EndReason;
import ducke.core.cost.Holds;
import ducke.core.cost.MinuteBuckets;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SessionRecord;
import ducke.core.cost.SessionRules;
import ducke.core.cost.SessionSlots;
import ducke.core.cost.SessionStore;
import ducke.core.cost.Share;
import ducke.core.cost.SpendLedger;
import ducke.core.cost.SpendRow;
import ducke.core.cost.TokenCounts;
import ducke.core.ratelimit.Bandwidth;
import ducke.core.ratelimit.BucketState;
import ducke.core.ratelimit.Decision;
import ducke.core.ratelimit.LeaseAsk;
import ducke.core.ratelimit.LeaseReturn;
import ducke.core.ratelimit.LimitPolicy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The wire formats of everything this service puts on the grid, held to fixtures: one hex file per
 * value, processor and message under {@code src/test/resources/wire/v<N>/}. A change of any format
 * fails here until it gets a new wire version ({@link WireVersion}); the fixtures of every version this
 * release still reads must keep reading, and re-encode to the same bytes when the cluster writes that
 * version, which is what lets a node of the next release join a cluster of this one.
 *
 * <p>Record fixtures for a new version: {@code mvn test -Dtest=WireFormatTest -Dducke.wire.record=true}.
 */
class WireFormatTest {

    private static final Path FIXTURES = Path.of("src/test/resources/wire");
    private static final long T = 1_780_000_000_000L;

    private static ClusterNode node;
    private static SerializationService serialization;

    @BeforeAll
    static void start() throws Exception {
        node = Members.start(1).get(0);
        serialization = ((SerializationServiceSupport) node.hazelcast()).getSerializationService();
    }

    @AfterAll
    static void stop() {
        WireVersion.use(WireVersion.RANGE.newest());
        node.stop();
    }

    @Test
    void theCurrentFormatsAreTheFixturesOfTheNewestVersion() throws IOException {
        int newest = WireVersion.RANGE.newest();
        Path dir = FIXTURES.resolve("v" + newest);
        if (Boolean.getBoolean("ducke.wire.record")) {
            Files.createDirectories(dir);
            for (Map.Entry<String, Object> e : samples().entrySet()) {
                Files.writeString(dir.resolve(e.getKey() + ".hex"), hex(serialization.toData(e.getValue())) + "\n");
            }
        }
        WireVersion.use(newest);
        for (Map.Entry<String, Object> e : samples().entrySet()) {
            assertThat(hex(serialization.toData(e.getValue())))
                    .as("%s is written as in wire version %d; a changed format needs a new wire version", e.getKey(), newest)
                    .isEqualTo(fixture(newest, e.getKey()));
        }
    }

    @Test
    void everyReadableVersionReadsBackAndIsWrittenAgainByteForByte() {
        for (int v = WireVersion.RANGE.oldest(); v <= WireVersion.RANGE.newest(); v++) {
            WireVersion.use(v);
            for (Map.Entry<String, Object> e : samples().entrySet()) {
                String stored = fixture(v, e.getKey());
                Object read = serialization.toObject(data(stored));
                assertThat(read).as("%s of wire version %d", e.getKey(), v).isInstanceOf(e.getValue().getClass());
                if (e.getValue() instanceof Record) {
                    assertThat(read).as("%s of wire version %d", e.getKey(), v).isEqualTo(e.getValue());
                }
                assertThat(hex(serialization.toData(read))).as("%s written again in wire version %d", e.getKey(), v)
                        .isEqualTo(stored);
            }
        }
        WireVersion.use(WireVersion.RANGE.newest());
    }

    @Test
    void everyFormatStartsWithItsVersionAndAnUnknownVersionIsRefusedByName() {
        int newest = WireVersion.RANGE.newest();
        for (String name : samples().keySet()) {
            byte[] bytes = data(fixture(newest, name)).toByteArray();
            int at = versionOffset(bytes);
            assertThat(bytes[at]).as("%s: the byte after the type's header is its wire version", name).isEqualTo((byte) newest);
            bytes[at] = 99;
            assertThatThrownBy(() -> serialization.toObject(new HeapData(bytes)))
                    .as(name).isInstanceOf(HazelcastSerializationException.class)
                    .hasStackTraceContaining("wire version 99; this node reads " + WireVersion.RANGE.encode());
        }
    }

    @Test
    void everyTypeThisServicePutsOnTheGridHasAFixture() {
        Set<String> covered = samples().values().stream().map(o -> o.getClass().getName()).collect(Collectors.toCollection(TreeSet::new));
        GridSerializers factory = new GridSerializers();
        Set<String> processors = IntStream.range(0, 1_000).mapToObj(factory::create).filter(java.util.Objects::nonNull)
                .map(o -> o.getClass().getName()).collect(Collectors.toCollection(TreeSet::new));
        assertThat(covered).containsAll(processors);
        // and every processor among the samples is one the factory makes (else a member receiving it cannot read it)
        Set<String> sampled = samples().values().stream().filter(o -> o instanceof com.hazelcast.nio.serialization.IdentifiedDataSerializable)
                .map(o -> o.getClass().getName()).collect(Collectors.toCollection(TreeSet::new));
        assertThat(processors).containsAll(sampled);
        Set<String> values = node.hazelcast().getConfig().getSerializationConfig().getSerializerConfigs().stream()
                .map(c -> c.getTypeClass() != null ? c.getTypeClass().getName() : c.getTypeClassName())
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(values).isNotEmpty();
        assertThat(covered).containsAll(values);
    }

    /** Where the version byte is: after the type id, and for a processor after its factory and class ids. */
    private static int versionOffset(byte[] bytes) {
        Data d = new HeapData(bytes);
        return d.getType() == -2 ? 8 + 1 + 4 + 4 : 8;
    }

    private static String fixture(int version, String name) {
        try {
            return Files.readString(FIXTURES.resolve("v" + version).resolve(name + ".hex"), StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("no fixture of " + name + " in wire version " + version, e);
        }
    }

    private static Data data(String hex) {
        return new HeapData(HexFormat.of().parseHex(hex));
    }

    private static String hex(Data d) {
        return HexFormat.of().formatHex(d.toByteArray());
    }

    /** One of each, with every field set to something other than its default. */
    static Map<String, Object> samples() {
        CostLimits limits = new CostLimits(true, 5_000_000_000L, 1_800_000L, 8_000, 3, 50_000_000_000L, 3_600_000L,
                100_000_000_000L, 900_000L, 300_000L, 10_000_000_000L);
        TokenCounts tokens = TokenCounts.of(11, 22, 3, 44, 55);
        ChargeKeys keys = ChargeKeys.of(List.of(new ChargeKeys.Entry(7L, 9L, T + 5, true)));
        SessionLedger ledger = new SessionLedger("s-1", "client-a", "node-1", "gpt-realtime", "v3-abc", T, T + 1_800_000,
                5_000_000_000L, Map.of("node-1", new Share(1_234_567L, tokens, 2, 4)), true, "node-1",
                EndReason.BUDGET_EXCEEDED, T + 60_000, true, keys);
        SpendLedger.Breaker breaker = new SpendLedger.Breaker(true, T + 1_000, T + 301_000, "threshold", 101_000_000_000L,
                T - 5_000, 42L);
        SpendLedger spend = new SpendLedger(Map.of("node-1/w", new SpendRow(3, 17, new long[]{29_666_666L, 29_666_667L},
                new long[]{400L, 500L})), breaker, new Holds(Map.of("h-1", new Holds.Hold(900L, T + 90_000))));
        SpendLedger.Snapshot snapshot = new SpendLedger.Snapshot(900L, 950L, true, T + 1_000, T + 301_000, "threshold",
                12_000L, T + 2_000);
        ClientSpend client = new ClientSpend(MinuteBuckets.of(new long[]{29_666_666L}, new long[]{321L}),
                new Holds(Map.of("h-2", new Holds.Hold(77L, T + 60_000))));
        BucketState bucket = new BucketState(new long[]{4, 9}, T, 2, T + 500, 6);
        Bandwidth bandwidth = new Bandwidth(60, 60_000);
        LimitPolicy policy = new LimitPolicy(List.of(bandwidth, new Bandwidth(1_000, 3_600_000)));
        LeaseReturn giveBack = new LeaseReturn(5, 3, 1);

        Map<String, Object> m = new LinkedHashMap<>();
        m.put("SessionLedger", ledger);
        m.put("SpendLedger", spend);
        m.put("SessionSlots", new SessionSlots(Map.of("s-1", T + 1_800_000), Map.of("s-0", T + 60_000)));
        // a charge's answer carries its ledger without the keys (the caller has no use for them)
        SessionLedger withoutKeys = new SessionLedger(ledger.sessionId(), ledger.clientId(), ledger.nodeName(), ledger.model(),
                ledger.priceVersion(), T, T + 1_800_000, 5_000_000_000L, ledger.shares(), true, "node-1",
                EndReason.BUDGET_EXCEEDED, T + 60_000, true);
        m.put("SessionRules.Charge", new SessionRules.Charge(withoutKeys, true, 1_234L, true, EndReason.BUDGET_EXCEEDED, true,
                ChargeKeys.Seen.SAME_REPORT_UNSPENT));
        m.put("SessionStore.Ended", new SessionStore.Ended(ledger, true));
        m.put("SpendLedger.Charged", new SpendLedger.Charged(null, snapshot, true));
        m.put("SpendLedger.Snapshot", snapshot);
        m.put("ClientSpend", client);
        m.put("ClientSpend.Snapshot", new ClientSpend.Snapshot(321L, 4_000L, 77L));
        m.put("SessionRecord", new SessionRecord("s-1", "client-a", "node-1", "gpt-realtime", T, T + 60_000,
                EndReason.CLIENT_CLOSED, tokens, 2, 1_234_567L, "v3-abc"));
        m.put("ChargeRecord", new ChargeRecord("s-1", "resp_1", "client-a", "gpt-realtime", tokens, 1_234L, true, T + 5,
                "v3-abc"));
        m.put("BucketState", bucket);
        m.put("Decision", new Decision(true, null, 60, 60, 12, 30_000, 0, bandwidth, 120_000, 4, 6));
        m.put("ConsumeProcessor", new ConsumeProcessor(policy, T, new LeaseAsk(4, 6, T + 500, giveBack)));
        m.put("DeleteProcessor", new DeleteProcessor());
        m.put("GiveBackProcessor", new GiveBackProcessor(policy, T, giveBack));
        m.put("ForgetDenialsTask", new ForgetDenialsTask(List.of("1.2.3.0/24|status", "client-a|websocket")));
        m.put("DepartureTask", new DepartureTask());
        m.put("LedgerProcessors.ConfirmSpend", new LedgerProcessors.ConfirmSpend(new ChargeKey("report-1", 7L, 9L)));
        m.put("LedgerProcessors.Charge", new LedgerProcessors.Charge(new ChargeId("node-1/w", 17), new ChargeKey("resp_1", 7L, 9L),
                1_234L, tokens, T, limits));
        m.put("LedgerProcessors.End", new LedgerProcessors.End(EndReason.ADMIN_ENDED, T));
        m.put("LedgerProcessors.Audited", new LedgerProcessors.Audited(600_000L, Map.of("s-1", 2)));
        m.put("LedgerProcessors.Create", new LedgerProcessors.Create(ledger));
        m.put("LedgerProcessors.Recap", new LedgerProcessors.Recap(5_000_000_000L, 8_000_000_000L));
        m.put("LedgerProcessors.Rehold", new LedgerProcessors.Rehold("member-a", "member-b"));
        m.put("LedgerProcessors.SetCap", new LedgerProcessors.SetCap(12_500_000_000L));
        m.put("SpendProcessors.Charge", new SpendProcessors.Charge().with(T, limits, 1_234L, "").as(new ChargeId("node-1/w", 17))
                .hold("h-1", 0));
        m.put("SpendProcessors.Reserve", new SpendProcessors.Reserve().with(T, limits, 900L, "").hold("h-1", T + 90_000)
                .atLeast(100L));
        m.put("SpendProcessors.Release", new SpendProcessors.Release().with(T, limits, 0, "").hold("h-1", 0));
        m.put("SpendProcessors.Trip", new SpendProcessors.Trip().with(T, limits, 0, "operator"));
        m.put("SpendProcessors.Seed", new SpendProcessors.Seed(spend).with(T, limits, 0, ""));
        m.put("ClientSpendGrid.Seed", new ClientSpendGrid.Seed(client, T, limits));
        m.put("SpendProcessors.Reset", new SpendProcessors.Reset().with(T, limits, 0, ""));
        m.put("SlotProcessors.Acquire", new SlotProcessors.Acquire("s-1", T + 1_800_000, 3, T));
        m.put("SlotProcessors.Release", new SlotProcessors.Release("s-1", T));
        m.put("ClientSpendGrid.Charge", new ClientSpendGrid.Charge(1_234L, T, limits, "h-2"));
        m.put("ClientSpendGrid.Reserve", new ClientSpendGrid.Reserve("h-2", 10L, 77L, T, T + 60_000, limits));
        m.put("ClientSpendGrid.Release", new ClientSpendGrid.Release("h-2", T, limits));
        m.put("GridReportAnswers.PutIfAbsent", new GridReportAnswers.PutIfAbsent("{\"session_id\":\"s-1\"}", 600_000L));
        m.put("CostMergePolicy.Ledgers", new CostMergePolicy.Ledgers());
        m.put("CostMergePolicy.Spend", new CostMergePolicy.Spend());
        m.put("CostMergePolicy.Slots", new CostMergePolicy.Slots());
        m.put("CostMergePolicy.ClientSpends", new CostMergePolicy.ClientSpends());
        BudgetWindows windows = new BudgetWindows(T - 3_600_000, T + 82_800_000, T - 86_400_000, T + 2_505_600_000L);
        ClientBudget budget = new ClientBudget(new BudgetOverride(500_000_000L, BudgetOverride.INHERIT, BudgetLimits.NONE, T - 5),
                T - 3_600_000, 120_000_000L, 90_000L, T - 86_400_000, 340_000_000L,
                new Holds(Map.of("h-3", new Holds.Hold(9_000L, T + 60_000))), new Holds(Map.of("s-1", new Holds.Hold(600_000L, T + 660_000))));
        m.put("ClientBudget", budget);
        m.put("ClientBudgetGrid.Apply", new ClientBudgetGrid.Apply(ClientBudgetGrid.Op.RESERVE, "h-3", 10L, 900L, T, T + 60_000, windows,
                new BudgetLimits(500_000_000L, 20_000_000_000L, 600_000L)).withOverride(budget.override()).withSeed(budget));
        m.put("CostMergePolicy.ClientBudgets", new CostMergePolicy.ClientBudgets());
        return m;
    }
}

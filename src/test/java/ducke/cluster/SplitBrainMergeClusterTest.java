package ducke.cluster;

import ducke.core.cost.ChargeId;
import ducke.core.cost.CostLimits;
import ducke.core.cost.EndReason;
import ducke.core.cost.Money;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SessionSlots;
import ducke.core.cost.SessionStore;
import ducke.core.cost.SpendStore;
import ducke.core.cost.TokenCounts;
import ducke.testing.FreePorts;
import io.dropwizard.util.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real split-brain heal: two clusters of the same name that changed the same cost entries apart
 * (as both halves of a partition can before they notice it) find each other and merge, and the
 * merge policies keep every charge of both sides exactly once.
 */
class SplitBrainMergeClusterTest {

    private static final long T0 = Instant.parse("2026-11-27T10:00:00Z").toEpochMilli();
    private static final CostLimits LIMITS = CostLimits.defaults();
    private static final ChargeId W1 = ChargeId.live("node-1/1");
    private static final ChargeId W2 = ChargeId.live("node-2/2");
    private static final ChargeId W3 = ChargeId.live("node-3/3");
    private static final TokenCounts TOKENS = TokenCounts.of(1, 0, 0, 1, 0);

    private final List<ClusterNode> nodes = new ArrayList<>();

    @AfterEach
    void stop() {
        nodes.forEach(ClusterNode::terminate);
    }

    private static long usd(String amount) {
        return Money.nanoUsd(amount);
    }

    private static HazelcastFactory factory(String cluster, int port, List<String> members) {
        HazelcastFactory f = new HazelcastFactory();
        f.setClusterName(cluster);
        f.setPort(port);
        f.setMembers(members);
        f.setInterfaces(List.of("127.0.0.1"));
        f.setWaitBeforeJoin(Duration.seconds(0));
        // each side may write while split, as both can before they notice the partition
        f.setMinClusterSize(1);
        f.setMergeFirstRunDelay(Duration.seconds(1));
        f.setMergeNextRunDelay(Duration.seconds(1));
        // the grid-call deadline is not under test here: a busy machine must not fail a write
        f.setCallTimeout(Duration.seconds(30));
        return f;
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.currentTimeMillis() + 90_000;
        while (!condition.getAsBoolean()) {
            assertThat(System.currentTimeMillis()).as(what).isLessThan(deadline);
            Thread.onSpinWait();
        }
    }

    /** What both sides held when they split, then what each did on its own. */
    private static void history(SessionStore s, SpendStore spend, SessionLedger shared, SessionLedger ended, boolean majority) {
        s.create(shared);
        s.create(ended);
        s.charge(shared.sessionId(), W1, usd("0.10"), TOKENS, T0, LIMITS);
        s.charge(shared.sessionId(), W2, usd("0.20"), TOKENS, T0, LIMITS);
        spend.charge(W1, usd("1"), T0, LIMITS);
        spend.charge(W2, usd("2"), T0, LIMITS);
        s.tryAcquireSlot("client", "s1", T0 + 60_000, 3, T0);
        s.tryAcquireSlot("client", "s2", T0 + 60_000, 3, T0);
        if (majority) {
            s.charge(shared.sessionId(), W1, usd("0.05"), TOKENS, T0 + 1_000, LIMITS);
            s.charge(ended.sessionId(), W1, usd("0.30"), TOKENS, T0 + 1_000, LIMITS);
            spend.charge(W1, usd("8"), T0 + 1_000, LIMITS);
            s.releaseSlot("client", "s1", T0 + 1_000);
            s.tryAcquireSlot("client", "s3", T0 + 60_000, 3, T0 + 1_000);
        } else {
            s.charge(shared.sessionId(), W3, usd("0.40"), TOKENS, T0 + 1_000, LIMITS);
            s.end(ended.sessionId(), EndReason.API_ENDED, T0 + 2_000);
            spend.charge(W3, usd("4"), T0 + 1_000, LIMITS);
            s.tryAcquireSlot("client", "s4", T0 + 60_000, 3, T0 + 1_000);
            s.releaseSlot("client", "s2", T0 + 1_000);
        }
    }

    private static SessionSlots slots(ClusterNode node) {
        return node.hazelcast().<String, SessionSlots>getMap(HazelcastFactory.SLOTS_MAP).get("client");
    }

    @Test
    void healedHalvesMergeEveryCostMapWithoutLosingOrDoublingACharge() throws Exception {
        String cluster = "test-" + UUID.randomUUID();
        int a1 = FreePorts.next();
        int a2 = FreePorts.next();
        int b = FreePorts.next();
        List<String> all = List.of("127.0.0.1:" + a1, "127.0.0.1:" + a2, "127.0.0.1:" + b);
        ClusterNode majority = Members.start(factory(cluster, a1, all), "majority-1");
        nodes.add(majority);
        nodes.add(Members.start(factory(cluster, a2, all), "majority-2"));
        await("the majority formed", () -> majority.memberCount() == 2);
        SessionLedger shared = SessionLedger.open("sess_shared", "client", "n", "gpt-5", "v1", T0, LIMITS, "");
        SessionLedger ended = SessionLedger.open("sess_ended", "client", "n", "gpt-5", "v1", T0, LIMITS, "");
        SessionLedger onlyThere = SessionLedger.open("sess_minority", "client", "n", "gpt-5", "v1", T0, LIMITS, "");
        // written before the other half exists, so that no merge can come between
        history(majority.sessionStore(), majority.spendStore(), shared, ended, true);

        // the other half knows only itself until the majority finds it (within a second); its
        // history is a few local calls on a lone member
        ClusterNode minority = Members.start(factory(cluster, b, List.of("127.0.0.1:" + b)), "minority");
        nodes.add(minority);
        assertThat(minority.memberCount()).isEqualTo(1);
        history(minority.sessionStore(), minority.spendStore(), shared, ended, false);
        minority.sessionStore().create(onlyThere);
        minority.sessionStore().charge(onlyThere.sessionId(), W3, usd("0.07"), TOKENS, T0, LIMITS);

        await("the halves merged", () -> majority.memberCount() == 3 && minority.memberCount() == 3);
        SessionStore merged = majority.sessionStore();
        await("the minority's entries merged", () -> merged.get(onlyThere.sessionId()).isPresent()
                && merged.get(shared.sessionId()).orElseThrow().costNanoUsd() == usd("0.75")
                && merged.get(ended.sessionId()).orElseThrow().costNanoUsd() == usd("0.30")
                && majority.spendStore().snapshot(T0 + 2_000, LIMITS).hourlyNanoUsd() == usd("15")
                && slots(majority).lapsesAtMillis().containsKey("s4"));

        SessionLedger s = merged.get(shared.sessionId()).orElseThrow();
        assertThat(s.costNanoUsd()).as("0.10 + 0.20 shared, 0.05 majority, 0.40 minority").isEqualTo(usd("0.75"));
        assertThat(s.chargedResponses()).isEqualTo(4);
        SessionLedger e = merged.get(ended.sessionId()).orElseThrow();
        assertThat(e.endReason()).as("ended beats live").isEqualTo(EndReason.API_ENDED);
        assertThat(e.costNanoUsd()).as("and keeps the live side's charge").isEqualTo(usd("0.30"));
        assertThat(merged.get(onlyThere.sessionId()).orElseThrow().costNanoUsd()).isEqualTo(usd("0.07"));
        assertThat(majority.spendStore().snapshot(T0 + 2_000, LIMITS).hourlyNanoUsd())
                .as("1 + 2 shared, 8 majority, 4 minority").isEqualTo(usd("15"));
        assertThat(slots(majority).lapsesAtMillis()).containsOnlyKeys("s3", "s4");
    }
}

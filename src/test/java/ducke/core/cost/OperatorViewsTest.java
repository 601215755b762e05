package ducke.core.cost;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class OperatorViewsTest {

    private static final long T0 = Instant.parse("2026-12-06T10:00:30Z").toEpochMilli();
    private static final long MINUTE = 60_000L;
    private static final long MINUTE_0 = T0 / MINUTE;

    private static SessionLedger ledger(String id, String client, long startedAt, String holder) {
        return new SessionLedger(id, client, "node-a", "gpt-5", "v1", startedAt, startedAt + 30 * MINUTE, 5_000_000_000L,
                Map.of(), false, holder, null, 0, false);
    }

    @Test
    void listsLiveSessionsOldestFirstWithTheirKind() {
        SessionLedger api = ledger("s-api", "c1", T0 + 2, "");
        SessionLedger relay = ledger("s-relay", "c2", T0 + 1, "member-1");
        SessionLedger call = ledger("s-call", "c3", T0, "member-2");
        SessionLedger ended = ledger("s-ended", "c1", T0 - 5, "").ended(EndReason.API_ENDED, T0);

        List<OperatorViews.LiveSession> live = OperatorViews.live(List.of(api, relay, call, ended), Set.of("s-call"),
                Set.of("s-relay"));

        assertThat(live).extracting(s -> s.ledger().sessionId()).containsExactly("s-call", "s-relay", "s-api");
        assertThat(live).extracting(OperatorViews.LiveSession::kind)
                .containsExactly(OperatorViews.Kind.CALL, OperatorViews.Kind.RELAY, OperatorViews.Kind.API);
        assertThat(live).extracting(OperatorViews.LiveSession::paused).containsExactly(false, true, false);
    }

    @Test
    void spendPerMinuteHasOneEntryPerMinuteOfTheWindowOldestFirst() {
        SpendLedger spend = new SpendLedger(new long[]{MINUTE_0 - 70, MINUTE_0 - 3, MINUTE_0 - 1, MINUTE_0},
                new long[]{9, 40, 30, 20}, SpendLedger.Breaker.CLOSED);

        assertThat(OperatorViews.perMinute(spend, T0, 4)).containsExactly(40, 0, 30, 20);
        assertThat(OperatorViews.perMinute(spend, T0, 1)).containsExactly(20);
        assertThat(OperatorViews.perMinute(spend, T0, 60)).hasSize(60).endsWith(40, 0, 30, 20);
        assertThat(OperatorViews.perMinute(SpendLedger.EMPTY, T0, 3)).containsExactly(0, 0, 0);
    }

    @Test
    void topClientsAreTheLargestSpendersInTheWindowWithTheirLiveSessions() {
        Map<String, ClientSpend> clients = Map.of(
                "c1", new ClientSpend(new long[]{MINUTE_0 - 2, MINUTE_0}, new long[]{10, 5}),
                "c2", new ClientSpend(new long[]{MINUTE_0 - 59}, new long[]{100}),
                "c3", new ClientSpend(new long[]{MINUTE_0 - 1}, new long[]{12}),
                "c4", new ClientSpend(new long[]{MINUTE_0 - 60}, new long[]{1000}));
        List<OperatorViews.LiveSession> live = OperatorViews.live(List.of(ledger("a", "c1", T0, ""), ledger("b", "c1", T0, ""),
                ledger("c", "c3", T0, "m")), Set.of(), Set.of());

        assertThat(OperatorViews.topClients(clients, live, T0, 60, 10)).containsExactly(
                new OperatorViews.ClientTotal("c2", 100, 0), new OperatorViews.ClientTotal("c1", 15, 2),
                new OperatorViews.ClientTotal("c3", 12, 1));
        assertThat(OperatorViews.topClients(clients, live, T0, 3, 10)).containsExactly(
                new OperatorViews.ClientTotal("c1", 15, 2), new OperatorViews.ClientTotal("c3", 12, 1));
        assertThat(OperatorViews.topClients(clients, live, T0, 60, 1)).extracting(OperatorViews.ClientTotal::clientId)
                .containsExactly("c2");
    }
}

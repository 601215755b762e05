package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import ducke.core.cost.CostLimits;
import ducke.core.cost.Money;
import ducke.core.cost.PriceTable;
import ducke.core.cost.ResponseBudget;
import ducke.core.cost.CostGuard;
import ducke.core.cost.CostObserver;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SpendView;
import ducke.testing.MemoryStores;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The client event policy on its own: a fresh session of gpt-realtime (100 in, 200 out per 1M)
 * with a $0.50 budget and a 2,000-token input floor, so the first response may produce 1,500
 * output tokens and the session clamp, 2 s of audio ahead, is 1,420.
 */
class ClientEventPolicyTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final PriceTable PRICES = PriceTable.defaults();

    private final Metering metering = metering("0.50");

    /**
     * Metering of one session, on a guard over in-memory stores: the policy never charges, but a
     * response starts only on the session's standing reservation, taken first as the relay does.
     */
    private static Metering metering(String capUsd) {
        CostGuard guard = new CostGuard(PRICES, CostLimits.defaults(), new MemoryStores.MemorySessions(),
                new MemoryStores.MemorySpend(), new SpendView(), s -> { }, CostObserver.NONE, "node", () -> "sess_policy");
        SessionLedger ledger = guard.start("client", "gpt-realtime", "", Money.nanoUsd(capUsd), 0).ledger();
        var price = PRICES.match("gpt-realtime").price();
        Metering m = new Metering(guard, ledger, 1, ResponseBudget.forModel(price, 2_000));
        assertThat(m.reserveStanding(0)).isNull();
        m.sessionClampUpdate(); // as the relay does first
        return m;
    }

    private ClientEventPolicy policy(boolean beta) {
        return new ClientEventPolicy(JSON, metering, PRICES, "gpt-realtime", beta, ClientEventPolicy.Allowed.DEFAULT);
    }

    private static ClientEventPolicy.Outcome inspect(ClientEventPolicy p, String frame) {
        return p.inspect(ByteBuffer.wrap(frame.getBytes(StandardCharsets.UTF_8)));
    }

    private static JsonNode forwarded(ClientEventPolicy.Outcome o) throws Exception {
        assertThat(o).isInstanceOf(ClientEventPolicy.Forward.class);
        return JSON.readTree(StandardCharsets.UTF_8.decode(((ClientEventPolicy.Forward) o).frame().duplicate()).toString());
    }

    private static String refusal(ClientEventPolicy.Outcome o) {
        assertThat(o).isInstanceOf(ClientEventPolicy.Refuse.class);
        return ((ClientEventPolicy.Refuse) o).code();
    }

    // ---- refusals ----

    @Test
    void refusesWhatIsNotARealtimeClientEvent() {
        ClientEventPolicy p = policy(false);
        for (String frame : new String[]{"{\"type\":\"echo\"}", "not json", "[1]", "{\"event_id\":\"x\"}",
                "{\"type\":\"response.create\",\"type\":\"session.update\"}"}) {
            assertThat(refusal(inspect(p, frame))).as(frame).isEqualTo("event_not_allowed");
        }
    }

    @Test
    void refusesAnotherModelInTheSessionOrAResponse() {
        ClientEventPolicy p = policy(false);
        ClientEventPolicy.Outcome o = inspect(p, "{\"type\":\"session.update\",\"event_id\":\"evt_m\",\"session\":{\"model\":\"gpt-5\"}}");
        assertThat(refusal(o)).isEqualTo("model_change_not_allowed");
        assertThat(((ClientEventPolicy.Refuse) o).eventId()).isEqualTo("evt_m");
        assertThat(refusal(inspect(p, "{\"type\":\"response.create\",\"response\":{\"model\":\"gpt-5\"}}")))
                .isEqualTo("model_change_not_allowed");
    }

    @Test
    void refusesATranscriptionModelWithoutAPrice() {
        assertThat(refusal(inspect(policy(false), "{\"type\":\"session.update\",\"session\":{\"audio\":{\"input\":"
                + "{\"transcription\":{\"model\":\"free-whisper\"}}}}}"))).isEqualTo("transcription_model_not_allowed");
    }

    @Test
    void refusesASecondResponseWhileOneIsInFlight() {
        ClientEventPolicy p = policy(false);
        forwardedQuietly(inspect(p, "{\"type\":\"response.create\"}"));
        ClientEventPolicy.Outcome second = inspect(p, "{\"type\":\"response.create\",\"event_id\":\"evt_2\"}");
        assertThat(refusal(second)).isEqualTo("conversation_already_has_active_response");
        assertThat(((ClientEventPolicy.Refuse) second).eventId()).isEqualTo("evt_2");
    }

    @Test
    void endsTheSessionRatherThanStartAResponseTheBudgetCannotPay() {
        // $0.20 pays the 2,000-token floor and nothing more
        ClientEventPolicy p = new ClientEventPolicy(JSON, metering("0.20"), PRICES, "gpt-realtime", false,
                ClientEventPolicy.Allowed.DEFAULT);
        assertThat(inspect(p, "{\"type\":\"response.create\"}")).isInstanceOf(ClientEventPolicy.EndForBudget.class);
    }

    @Test
    void refusesMcpToolsAndStoredPromptsUnlessAllowed() {
        ClientEventPolicy p = policy(false);
        String mcpSession = "{\"type\":\"session.update\",\"event_id\":\"evt_t\",\"session\":{\"tools\":[{\"type\":\"function\",\"name\":\"f\"},"
                + "{\"type\":\"mcp\",\"server_label\":\"s\",\"server_url\":\"https://mcp.example\"}]}}";
        ClientEventPolicy.Outcome o = inspect(p, mcpSession);
        assertThat(refusal(o)).isEqualTo("tool_type_not_allowed");
        assertThat(((ClientEventPolicy.Refuse) o).eventId()).isEqualTo("evt_t");
        assertThat(refusal(inspect(p, "{\"type\":\"response.create\",\"response\":{\"tools\":[{\"type\":\"MCP\"}]}}")))
                .isEqualTo("tool_type_not_allowed");
        assertThat(refusal(inspect(p, "{\"type\":\"session.update\",\"session\":{\"prompt\":{\"id\":\"pmpt_1\"}}}")))
                .isEqualTo("tool_type_not_allowed");
        assertThat(refusal(inspect(p, "{\"type\":\"response.create\",\"response\":{\"prompt\":{\"id\":\"pmpt_1\"}}}")))
                .isEqualTo("tool_type_not_allowed");
        // a function tool without a type, and a prompt cleared with null, are fine
        assertThat(inspect(p, "{\"type\":\"session.update\",\"session\":{\"tools\":[{\"name\":\"f\"}],\"prompt\":null}}"))
                .isInstanceOf(ClientEventPolicy.Forward.class);
    }

    @Test
    void mcpToolsAndStoredPromptsPassWhereAllowedAndCountAsInput() {
        ClientEventPolicy p = new ClientEventPolicy(JSON, metering, PRICES, "gpt-realtime", false,
                new ClientEventPolicy.Allowed(Set.of("function", " MCP "), true));
        long before = metering.clamp();
        String session = "{\"type\":\"session.update\",\"session\":{\"tools\":[{\"type\":\"mcp\",\"server_label\":\"s\"}],"
                + "\"prompt\":{\"id\":\"pmpt_1\"}}}";
        assertThat(inspect(p, session)).isInstanceOf(ClientEventPolicy.Forward.class);
        assertThat(metering.clamp()).as("their text is input").isLessThan(before);
    }

    // ---- rewrites and field names ----

    @Test
    void aGaSessionLimitIsTheSessionClampWithItsHeadroom() throws Exception {
        ClientEventPolicy p = policy(false);
        JsonNode out = forwarded(inspect(p, "{\"type\":\"session.update\",\"session\":{\"type\":\"realtime\",\"max_output_tokens\":\"inf\"}}"));
        assertThat(out.at("/session/max_output_tokens").asLong()).isEqualTo(1_420);
        assertThat(metering.sessionClampUpdate()).as("the metering's session clamp is the one written").isNull();
        assertThat(metering.staleSessionClamp()).isNull();
    }

    @Test
    void aClientsLowerSessionLimitIsKeptAndBecomesTheSessionClamp() throws Exception {
        ClientEventPolicy p = policy(false);
        JsonNode out = forwarded(inspect(p, "{\"type\":\"session.update\",\"session\":{\"max_output_tokens\":300}}"));
        assertThat(out.at("/session/max_output_tokens").asLong()).isEqualTo(300);
        assertThat(metering.sessionClampUpdate()).isNull();
        assertThat(metering.clamp()).isEqualTo(300);
    }

    @Test
    void aBetaSessionLimitGoesAsMaxResponseOutputTokensWhateverTheClientCalledIt() throws Exception {
        ClientEventPolicy p = policy(true);
        JsonNode out = forwarded(inspect(p, "{\"type\":\"session.update\",\"session\":{\"max_output_tokens\":4096,"
                + "\"max_response_output_tokens\":\"inf\"}}"));
        assertThat(out.at("/session/max_response_output_tokens").asLong()).isEqualTo(1_420);
        assertThat(out.at("/session").has("max_output_tokens")).isFalse();
    }

    @Test
    void aSessionUpdateWithoutALimitPassesAsItCame() {
        String frame = "{\"type\":\"session.update\",\"session\":{\"instructions\":\"be brief\"}}";
        ClientEventPolicy.Outcome o = inspect(policy(false), frame);
        assertThat(StandardCharsets.UTF_8.decode(((ClientEventPolicy.Forward) o).frame()).toString()).isEqualTo(frame);
    }

    @Test
    void aResponseLimitGoesAsMaxOutputTokensInBothInterfaces() throws Exception {
        for (boolean beta : new boolean[]{false, true}) {
            JsonNode out = forwarded(inspect(new ClientEventPolicy(JSON, metering("0.50"), PRICES, "gpt-realtime", beta,
                    ClientEventPolicy.Allowed.DEFAULT), "{\"type\":\"response.create\",\"response\":{\"max_response_output_tokens\":7}}"));
            assertThat(out.at("/response/max_output_tokens").asLong()).as("beta %s", beta).isEqualTo(7);
            assertThat(out.at("/response").has("max_response_output_tokens")).isFalse();
        }
    }

    @Test
    void everyResponseCarriesTheClampAndInfIsRewritten() throws Exception {
        JsonNode out = forwarded(inspect(policy(false), "{\"type\":\"response.create\",\"response\":{\"max_output_tokens\":\"inf\"}}"));
        assertThat(out.at("/response/max_output_tokens").asLong()).isEqualTo(1_500);
        assertThat(forwarded(inspect(new ClientEventPolicy(JSON, metering("0.50"), PRICES, "gpt-realtime", false,
                ClientEventPolicy.Allowed.DEFAULT), "{\"type\":\"response.create\"}")).at("/response/max_output_tokens").asLong())
                .isEqualTo(1_500);
    }

    @Test
    void theFieldNamesOfTheTwoInterfacesLiveInOnePlace() {
        assertThat(RealtimeEvents.sessionOutputLimit(false)).isEqualTo("max_output_tokens");
        assertThat(RealtimeEvents.sessionOutputLimit(true)).isEqualTo("max_response_output_tokens");
        assertThat(RealtimeEvents.responseOutputLimit(false)).isEqualTo("max_output_tokens");
        assertThat(RealtimeEvents.responseOutputLimit(true)).isEqualTo("max_output_tokens");
        assertThat(RealtimeEvents.maxOutputTokens(JSON.createObjectNode().put("max_output_tokens", 12))).isEqualTo(12);
        assertThat(RealtimeEvents.maxOutputTokens(JSON.createObjectNode().put("max_output_tokens", "inf"))).isEqualTo(Long.MAX_VALUE);
    }

    // ---- event ids ----

    @Test
    void aResponseCreateGoesUpstreamUnderAnUnguessableGatewayId() throws Exception {
        ClientEventPolicy one = policy(false);
        JsonNode a = forwarded(inspect(one, "{\"type\":\"response.create\",\"event_id\":\"evt_1\"}"));
        JsonNode b = forwarded(inspect(new ClientEventPolicy(JSON, metering("0.50"), PRICES, "gpt-realtime", false,
                ClientEventPolicy.Allowed.DEFAULT), "{\"type\":\"response.create\"}"));
        String idA = a.path("event_id").asText();
        String idB = b.path("event_id").asText();
        assertThat(idA).startsWith("event_gw_").isNotEqualTo("evt_1");
        assertThat(idB).startsWith("event_gw_");
        // a per-session random part: another session's ids do not tell this one's
        assertThat(idA.substring(0, idA.lastIndexOf('_'))).isNotEqualTo(idB.substring(0, idB.lastIndexOf('_')));
    }

    @Test
    void onlyAnErrorAboutTheGatewaysIdReleasesTheReservation() throws Exception {
        ClientEventPolicy p = policy(false);
        String gatewayId = forwarded(inspect(p, "{\"type\":\"response.create\",\"event_id\":\"evt_1\"}")).path("event_id").asText();
        metering.createFailed("evt_1"); // an upstream error about another event the client called evt_1
        assertThat(refusal(inspect(p, "{\"type\":\"response.create\"}"))).isEqualTo("conversation_already_has_active_response");
        metering.createFailed(gatewayId);
        assertThat(inspect(p, "{\"type\":\"response.create\"}")).isInstanceOf(ClientEventPolicy.Forward.class);
    }

    @Test
    void anErrorAboutAResponseCreateNamesTheClientsOwnIdOrNone() throws Exception {
        ClientEventPolicy p = policy(false);
        String named = forwarded(inspect(p, "{\"type\":\"response.create\",\"event_id\":\"evt_1\"}")).path("event_id").asText();
        metering.createFailed(named);
        String unnamed = forwarded(inspect(p, "{\"type\":\"response.create\"}")).path("event_id").asText();
        assertThat(clientSees(p, named).at("/error/event_id").asText()).isEqualTo("evt_1");
        JsonNode none = clientSees(p, unnamed);
        assertThat(none.at("/error/event_id").isNull()).isTrue();
        assertThat(none.at("/error/code").asText()).isEqualTo("invalid_value");
        String other = error("evt_other");
        ByteBuffer message = ByteBuffer.wrap(other.getBytes(StandardCharsets.UTF_8));
        assertThat(p.errorForClient(message, JSON.readTree(other))).as("any other error passes as it came").isSameAs(message);
    }

    private static String error(String about) {
        return "{\"type\":\"error\",\"event_id\":\"event_up\",\"error\":{\"type\":\"invalid_request_error\",\"code\":\"invalid_value\","
                + "\"message\":\"m\",\"param\":null,\"event_id\":\"" + about + "\"}}";
    }

    private static JsonNode clientSees(ClientEventPolicy p, String about) throws Exception {
        String e = error(about);
        ByteBuffer out = p.errorForClient(ByteBuffer.wrap(e.getBytes(StandardCharsets.UTF_8)), JSON.readTree(e));
        return JSON.readTree(StandardCharsets.UTF_8.decode(out).toString());
    }

    // ---- what a response reads ----

    @Test
    void aResponseScopeFollowsItsConversationAndInput() throws Exception {
        assertThat(ClientEventPolicy.scope(JSON.readTree("{}"))).isEqualTo(ResponseBudget.Scope.CONVERSATION);
        assertThat(ClientEventPolicy.scope(JSON.readTree("{\"conversation\":\"auto\"}"))).isEqualTo(ResponseBudget.Scope.CONVERSATION);
        assertThat(ClientEventPolicy.scope(JSON.readTree("{\"input\":[]}"))).isEqualTo(ResponseBudget.Scope.OWN_INPUT);
        assertThat(ClientEventPolicy.scope(JSON.readTree("{\"conversation\":\"none\"}"))).isEqualTo(ResponseBudget.Scope.OUT_OF_BAND);
        assertThat(ClientEventPolicy.scope(JSON.readTree("{\"conversation\":\"none\",\"input\":[]}")))
                .isEqualTo(ResponseBudget.Scope.OUT_OF_BAND);
    }

    @Test
    void anItemReferredToAgainCountsAsTheWholeContext() throws Exception {
        JsonNode input = JSON.readTree("[{\"type\":\"item_reference\",\"id\":\"a\"},{\"type\":\"item_reference\",\"id\":\"b\"},"
                + "{\"type\":\"message\",\"content\":[{\"type\":\"item_reference\",\"id\":\"a\"}]},{\"type\":\"item_reference\",\"id\":\"a\"}]");
        assertThat(ClientEventPolicy.repeatedReferences(input)).isEqualTo(2);
        Metering m = metering("1.00");
        ClientEventPolicy p = new ClientEventPolicy(JSON, m, PRICES, "gpt-realtime", false, ClientEventPolicy.Allowed.DEFAULT);
        long before = m.clamp();
        forwarded(inspect(p, "{\"type\":\"response.create\",\"response\":{\"conversation\":\"none\",\"input\":" + input + "}}"));
        // each repeat counts at least the 2,000-token floor of input (0.20): 1,000 output tokens fewer each
        assertThat(before - m.lastClamp()).isGreaterThanOrEqualTo(2 * 1_000);
    }

    private static void forwardedQuietly(ClientEventPolicy.Outcome o) {
        assertThat(o).isInstanceOf(ClientEventPolicy.Forward.class);
    }
}

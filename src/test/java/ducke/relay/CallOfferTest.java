package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import ducke.config.UpstreamFactory;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Parsing a WebRTC call offer, the provider's body made of it, the call id of a Location, the calls endpoint's URL. */
class CallOfferTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SDP = CallsAppTest.SDP;
    private static final String BOUNDARY = "----browserBoundary7MA4YWxkTrZu0gW";
    private static final String MULTIPART = "multipart/form-data; boundary=" + BOUNDARY;

    private static CallOffer parse(String contentType, String body) throws CallOffer.Invalid {
        return CallOffer.parse(contentType, body.getBytes(StandardCharsets.UTF_8), JSON);
    }

    private static void invalid(String contentType, String body, String says) {
        assertThatThrownBy(() -> parse(contentType, body)).isInstanceOf(CallOffer.Invalid.class).hasMessageContaining(says);
    }

    @Test
    void anSdpOfferAlone() throws Exception {
        CallOffer o = parse("application/sdp; charset=utf-8", "\r\n" + SDP + "\r\n");
        assertThat(o.sdp()).isEqualTo(SDP);
        assertThat(o.session()).isNull();
        assertThat(o.requestedModel()).isNull();
        assertThat(o.forbiddenTool(Set.of("function"))).isNull();
        assertThat(parse("Application/SDP", SDP).sdp()).isEqualTo(SDP);
    }

    @Test
    void aMultipartOfferWithItsSession() throws Exception {
        String session = "{\"type\":\"realtime\",\"model\":\"gpt-realtime-mini\",\"instructions\":\"hi\","
                + "\"tools\":[{\"type\":\"function\",\"name\":\"f\"}]}";
        CallOffer o = parse(MULTIPART, CallsAppTest.multipart("sdp", SDP, "session", session));
        assertThat(o.sdp()).isEqualTo(SDP);
        assertThat(o.session().get("instructions").asText()).isEqualTo("hi");
        assertThat(o.requestedModel()).isEqualTo("gpt-realtime-mini");
        assertThat(o.forbiddenTool(Set.of("function"))).isNull();
        // the boundary quoted, parts in the other order, a session without a type
        CallOffer quoted = parse("multipart/form-data; boundary=\"" + BOUNDARY + "\"",
                CallsAppTest.multipart("session", "{\"model\":\"gpt-realtime\"}", "sdp", SDP));
        assertThat(quoted.requestedModel()).isEqualTo("gpt-realtime");
        assertThat(parse(MULTIPART, CallsAppTest.multipart("sdp", SDP)).session()).isNull();
    }

    @Test
    void theProvidersBodyCarriesTheGuardsModelAndClamp() throws Exception {
        String session = "{\"type\":\"realtime\",\"model\":\"gpt-x\",\"max_output_tokens\":\"inf\",\"max_response_output_tokens\":9,"
                + "\"instructions\":\"hi\"}";
        CallOffer o = parse(MULTIPART, CallsAppTest.multipart("sdp", SDP, "session", session));
        CallOffer.Body body = o.forProvider(JSON, "gpt-realtime", 1_420);
        assertThat(body.contentType()).startsWith("multipart/form-data; boundary=");
        // parsed back by the guard's own parser: the same two parts
        CallOffer back = CallOffer.parse(body.contentType(), body.bytes(), JSON);
        assertThat(back.sdp()).isEqualTo(SDP);
        JsonNode s = back.session();
        assertThat(s.get("model").asText()).isEqualTo("gpt-realtime");
        assertThat(s.get("type").asText()).isEqualTo("realtime");
        assertThat(s.get("max_output_tokens").asLong()).isEqualTo(1_420);
        assertThat(s.has("max_response_output_tokens")).isFalse();
        assertThat(s.get("instructions").asText()).isEqualTo("hi");
        // an SDP offer alone gets a session of the guard's
        CallOffer.Body aloneBody = parse("application/sdp", SDP).forProvider(JSON, "gpt-realtime", 7);
        JsonNode alone = CallOffer.parse(aloneBody.contentType(), aloneBody.bytes(), JSON).session();
        assertThat(alone.toString()).isEqualTo("{\"type\":\"realtime\",\"model\":\"gpt-realtime\",\"max_output_tokens\":7}");
        // the client's session is not changed by it
        assertThat(o.session().get("model").asText()).isEqualTo("gpt-x");
    }

    @Test
    void malformedOffersAreRefused() {
        invalid(null, SDP, "Content-Type");
        invalid(" ", SDP, "Content-Type");
        invalid("application/json", "{}", "not application/json");
        invalid("application/sdp", "hello", "must start with v=0");
        invalid("application/sdp", "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n", "no media section");
        invalid("multipart/form-data", CallsAppTest.multipart("sdp", SDP), "boundary");
        invalid("multipart/form-data; boundary=", CallsAppTest.multipart("sdp", SDP), "boundary");
        invalid("multipart/form-data; boundary=" + "b".repeat(201), "", "boundary");
        invalid(MULTIPART, "just text", "no part");
        invalid(MULTIPART, "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"sdp\"\r\n\r\n" + SDP, "not closed");
        invalid(MULTIPART, "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"sdp\"\r\n" + SDP + "\r\n--" + BOUNDARY + "--\r\n",
                "no header block");
        invalid(MULTIPART, "--" + BOUNDARY + "\r\nContent-Type: application/sdp\r\n\r\n" + SDP + "\r\n--" + BOUNDARY + "--\r\n", "no name");
        invalid(MULTIPART, CallsAppTest.multipart("session", "{}"), "sdp part is missing");
        invalid(MULTIPART, CallsAppTest.multipart("sdp", SDP, "file", "x"), "Unknown part file");
        invalid(MULTIPART, CallsAppTest.multipart("sdp", "hello"), "v=0");
        invalid(MULTIPART, CallsAppTest.multipart("sdp", SDP, "sdp", SDP), "sdp part is given twice");
        invalid(MULTIPART, CallsAppTest.multipart("sdp", SDP, "session", "{}", "session", "{}"), "session part is given twice");
        invalid(MULTIPART, CallsAppTest.multipart("sdp", SDP, "session", "{not json"), "not JSON");
        invalid(MULTIPART, CallsAppTest.multipart("sdp", SDP, "session", "[]"), "must be a JSON object");
        invalid(MULTIPART, CallsAppTest.multipart("sdp", SDP, "session", "\"realtime\""), "must be a JSON object");
        invalid(MULTIPART, CallsAppTest.multipart("sdp", SDP, "session", "{\"type\":\"transcription\"}"), "Only realtime sessions");
        invalid(MULTIPART, CallsAppTest.multipart("sdp", SDP, "session", "{\"tools\":{\"type\":\"function\"}}"), "must be an array");
        String many = CallsAppTest.multipart("sdp", SDP, "a", "1", "b", "2", "c", "3", "d", "4");
        assertThatThrownBy(() -> parse(MULTIPART, many)).isInstanceOf(CallOffer.Invalid.class);
    }

    @Test
    void toolsOfTypesNotAllowedAreNamed() throws Exception {
        CallOffer o = parse(MULTIPART, CallsAppTest.multipart("sdp", SDP, "session",
                "{\"tools\":[{\"type\":\"function\",\"name\":\"f\"},{\"type\":\"mcp\",\"server_label\":\"x\"}]}"));
        assertThat(o.forbiddenTool(Set.of("function"))).isEqualTo("Tools of type mcp are not allowed; allowed: function");
        assertThat(o.forbiddenTool(Set.of("function", "mcp"))).isNull();
        CallOffer untyped = parse(MULTIPART, CallsAppTest.multipart("sdp", SDP, "session", "{\"tools\":[{\"name\":\"f\"}]}"));
        assertThat(untyped.forbiddenTool(Set.of("function"))).contains("(none)");
    }

    @Test
    void theCallIdIsTheLocationsLastSegment() {
        assertThat(ProviderCalls.callIdOf("/v1/realtime/calls/rtc_u1_9c6574da8b8a41a18da9308f4ad974ce"))
                .isEqualTo("rtc_u1_9c6574da8b8a41a18da9308f4ad974ce");
        assertThat(ProviderCalls.callIdOf("https://api.openai.com/v1/realtime/calls/rtc_42/")).isEqualTo("rtc_42");
        assertThat(ProviderCalls.callIdOf(" /v1/realtime/calls/rtc_42?x=1 ")).isEqualTo("rtc_42");
        assertThat(ProviderCalls.callIdOf("rtc_7")).isEqualTo("rtc_7");
        assertThat(ProviderCalls.callIdOf("/v1/realtime/calls/rtc%2F..")).isNull();
        assertThat(ProviderCalls.callIdOf("/v1/realtime/calls/a b")).isNull();
        assertThat(ProviderCalls.callIdOf("/")).isNull();
        assertThat(ProviderCalls.callIdOf("/v1/realtime/calls/" + "x".repeat(129))).isNull();
    }

    private static String callsUri(String url, String callsUrl) {
        UpstreamFactory f = new UpstreamFactory();
        f.setUrl(url);
        f.setCallsUrl(callsUrl);
        return f.callsUri().toString();
    }

    @Test
    void theCallsEndpointIsDerivedFromTheUpstreamUrl() {
        assertThat(callsUri("wss://api.openai.com/v1/realtime", "")).isEqualTo("https://api.openai.com/v1/realtime/calls");
        assertThat(callsUri("ws://127.0.0.1:8089/v1/realtime", null)).isEqualTo("http://127.0.0.1:8089/v1/realtime/calls");
        assertThat(callsUri("WSS://api.openai.com/v1/realtime/", "")).isEqualTo("https://api.openai.com/v1/realtime/calls");
        assertThat(callsUri("wss://proxy.example/openai/v1/realtime?api-version=1", ""))
                .isEqualTo("https://proxy.example/openai/v1/realtime/calls");
        assertThat(callsUri("wss://api.openai.com", "")).isEqualTo("https://api.openai.com/calls");
        assertThat(callsUri("wss://api.openai.com/v1/realtime", " https://calls.example/v1/realtime/calls "))
                .isEqualTo("https://calls.example/v1/realtime/calls");
    }

    @Test
    void theProvidersNameForTheModelIsTheSessionsOnlyWhenEqualOrADatedSnapshot() {
        assertThat(RelaySession.sameModel("gpt-realtime", "gpt-realtime")).isTrue();
        assertThat(RelaySession.sameModel("gpt-realtime-2025-08-28", "gpt-realtime")).isTrue();
        // priced otherwise: a caller's switch to these is undone
        assertThat(RelaySession.sameModel("gpt-realtime-mini", "gpt-realtime")).isFalse();
        assertThat(RelaySession.sameModel("gpt-realtime-2099-pro", "gpt-realtime")).isFalse();
        assertThat(RelaySession.sameModel("gpt-realtime-2025-08-28-pro", "gpt-realtime")).isFalse();
        assertThat(RelaySession.sameModel("gpt-4o-realtime-preview", "gpt-realtime")).isFalse();
    }
}

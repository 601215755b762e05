package ducke.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import ducke.DuckeConfiguration;
import ducke.testing.MutableClock;
import ducke.testing.RawHttp;
import ducke.testing.TestApps;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;

import static ducke.testing.RawHttp.chunk;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * One test per class of malformed request, sent as raw bytes to the running application: each gets
 * its 4xx (or 501/505) with the one JSON error body, never a 500 or {@code internal_error}.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class MalformedRequestsAppTest {

    private static final DropwizardAppExtension<DuckeConfiguration> APP = new DropwizardAppExtension<>(TestApps.support(
            MutableClock.at("2026-11-27T14:00:00Z"), "rateLimits.defaultLimit", "100000/minute",
            "rateLimits.websocket", "100000/minute"));
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SESSIONS = "POST /v1/sessions HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            + "Authorization: Bearer " + TestApps.SERVICE_TOKEN;

    private static RawHttp.Answer app(String head, byte[] body) {
        return RawHttp.send(APP.getLocalPort(), head, body);
    }

    private static RawHttp.Answer app(String head, String body) {
        return RawHttp.send(APP.getLocalPort(), head, body);
    }

    /** The status, and the error body's word: invalid_request for every malformed request. */
    private static JsonNode refused(RawHttp.Answer a, int status) {
        assertThat(a.status()).as(a.body()).isEqualTo(status);
        assertThat(a.headers().get("content-type")).startsWith("application/json");
        try {
            JsonNode body = JSON.readTree(a.body());
            assertThat(body.get("code").asInt()).isEqualTo(status);
            assertThat(body.get("error").asText()).isEqualTo("invalid_request");
            assertThat(body.get("message").asText()).isNotBlank();
            return body;
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + a.body(), e);
        }
    }

    @Test
    void aHeaderThatMustComeOnceGivenTwiceIs400() {
        String body = "{\"client_id\":\"198.51.100.61\"}";
        JsonNode auth = refused(app(SESSIONS + "\r\nAuthorization: Bearer someone-else\r\nContent-Length: " + body.length(), body), 400);
        assertThat(auth.get("message").asText()).isEqualTo("Header Authorization given more than once; send it once");
        refused(app(SESSIONS + "\r\nContent-Type: text/plain\r\nContent-Length: " + body.length(), body), 400);
        // the relay's handshake: two Origins (the second not allowed) or two keys are not an upgrade
        String handshake = "GET /session HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Forwarded-For: 198.51.100.62";
        refused(app(handshake + "\r\nOrigin: http://test\r\nOrigin: https://evil.example", ""), 400);
        refused(app(handshake + "\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==", ""), 400);
    }

    @Test
    void anUpgradeTheServerWouldNotAcceptIs426NotA405() {
        String rest = "Host: test\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "X-Forwarded-For: 198.51.100.63";
        for (String head : new String[]{
                "GET /session HTTP/1.1\r\nUpgrade: foo, websocket\r\nConnection: Upgrade\r\n" + rest,
                "GET /session HTTP/1.0\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + rest}) {
            RawHttp.Answer a = app(head, "");
            assertThat(a.status()).as(head + ": " + a.body()).isEqualTo(426);
        }
    }

    @Test
    void malformedChunkedFramingIs400() {
        JsonNode body = refused(app(SESSIONS + "\r\nTransfer-Encoding: chunked", "ZZ\r\n{}\r\n0\r\n\r\n"), 400);
        assertThat(body.get("message").asText()).contains("could not be read");
    }

    @Test
    void contentThatIsNotTheGzipItClaimsIs400() {
        refused(app(SESSIONS + "\r\nContent-Encoding: gzip\r\nContent-Length: 13", "{\"model\":\"x\"}"), 400);
    }

    @Test
    void realGzipStillWorks() {
        byte[] body = gzip("{\"client_id\":\"198.51.100.7\"}");
        RawHttp.Answer a = app(SESSIONS + "\r\nContent-Encoding: gzip\r\nContent-Length: " + body.length, body);
        assertThat(a.status()).as(a.body()).isEqualTo(201);
    }

    @Test
    void chunkedBodyOverTheLimitIs413LikeADeclaredLength() {
        String big = "{\"client_id\":\"" + "x".repeat(70_000) + "\"}";
        StringBuilder chunks = new StringBuilder();
        for (int i = 0; i < big.length(); i += 8192) {
            chunks.append(chunk(big.substring(i, Math.min(big.length(), i + 8192))));
        }
        JsonNode body = refused(app(SESSIONS + "\r\nTransfer-Encoding: chunked", chunks + "0\r\n\r\n"), 413);
        assertThat(body.get("max_body_bytes").asLong()).isEqualTo(65536);
    }

    @Test
    void chunkedBodyOfWhitespaceOverTheLimitIs413TooNotAnEmptyRequest() {
        String chunks = chunk(" ".repeat(40_000)) + chunk(" ".repeat(40_000)) + "0\r\n\r\n";
        refused(app(SESSIONS + "\r\nTransfer-Encoding: chunked", chunks), 413);
    }

    @Test
    void chunkedBodyWithinTheLimitIsAccepted() {
        RawHttp.Answer a = app(SESSIONS + "\r\nTransfer-Encoding: chunked", chunk("{\"client_id\":") + chunk("\"198.51.100.8\"}") + "0\r\n\r\n");
        assertThat(a.status()).as(a.body()).isEqualTo(201);
    }

    @Test
    void transferCodingsOtherThanChunkedAre501() {
        JsonNode body = refused(app(SESSIONS + "\r\nTransfer-Encoding: gzip, chunked", chunk("{}") + "0\r\n\r\n"), 501);
        assertThat(body.get("message").asText()).contains("gzip");
    }

    @Test
    void contentCodingsOtherThanGzipAre415() {
        refused(app(SESSIONS + "\r\nContent-Encoding: br\r\nContent-Length: 2", "{}"), 415);
    }

    @Test
    void anUnsupportedHttpVersionIs505AndNotAnInternalError() {
        refused(app("GET /status HTTP/3.0\r\nHost: test", ""), 505);
    }

    @Test
    void errorsForMethodsOtherThanGetAndPostCarryTheErrorBodyToo() {
        refused(app("TRACE /status HTTP/1.1\r\nHost: test", ""), 405);
        refused(app("DELETE /v1/sessions/%ff%fe HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer " + TestApps.SERVICE_TOKEN, ""), 400);
    }

    @Test
    void malformedAdminTaskParametersAre400() {
        String task = "POST /tasks/reset-rate-limits HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded";
        refused(RawHttp.send(APP.getAdminPort(), task + "\r\nTransfer-Encoding: chunked", "ZZ\r\nclient=1.2.3.4\r\n0\r\n\r\n"), 400);
        refused(RawHttp.send(APP.getAdminPort(),
                "POST /tasks/reset-rate-limits?client=%zz HTTP/1.1\r\nHost: test", ""), 400);
    }

    private static byte[] gzip(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}

package ducke.relay;

import ducke.errors.RootCause;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpMethod;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The provider's WebRTC calls endpoint, with the server's key: creating a call from an offer, and
 * hanging one up ({@code POST …/calls/{id}/hangup}). The key never leaves this class but toward
 * the provider.
 */
final class ProviderCalls {

    private static final Logger LOG = LoggerFactory.getLogger(ProviderCalls.class);

    /** The provider's answer to an offer: its status, its body (the SDP answer when 2xx) and the call's id. */
    record Answer(int status, String contentType, String body, String callId) {
        boolean created() {
            return status / 100 == 2 && callId != null && !callId.isBlank();
        }
    }

    private final HttpClient http;
    private final URI calls;
    private final String apiKey;
    private final Duration timeout;

    ProviderCalls(HttpClient http, URI calls, String apiKey, Duration timeout) {
        this.http = http;
        this.calls = calls;
        this.apiKey = apiKey;
        this.timeout = timeout;
    }

    URI uri() {
        return calls;
    }

    /** Forwards an offer; an unreachable provider throws. */
    Answer create(CallOffer.Body body) throws Exception {
        ContentResponse r;
        try {
            r = http.newRequest(calls).method(HttpMethod.POST)
                    .headers(h -> h.put("Authorization", "Bearer " + apiKey))
                    .body(new BytesRequestContent(body.contentType(), body.bytes()))
                    .timeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .send();
        } catch (java.util.concurrent.ExecutionException e) {
            // a 401 without WWW-Authenticate (the provider's, for a key it refuses) is a protocol
            // violation to the HTTP client: it is still the provider's answer
            if (e.getCause() instanceof org.eclipse.jetty.client.HttpResponseException h && h.getResponse() != null
                    && h.getResponse().getStatus() > 0) {
                return new Answer(h.getResponse().getStatus(), null, "", null);
            }
            throw e;
        }
        String location = r.getHeaders().get("Location");
        String callId = location == null ? null : callIdOf(location);
        return new Answer(r.getStatus(), r.getMediaType(), r.getContentAsString(), callId);
    }

    /** The call's id: the last segment of the provider's {@code Location}. */
    static String callIdOf(String location) {
        String path = location.strip();
        int q = path.indexOf('?');
        if (q >= 0) {
            path = path.substring(0, q);
        }
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        String id = path.substring(path.lastIndexOf('/') + 1);
        return id.matches("[A-Za-z0-9_-]{1,128}") ? id : null;
    }

    /** Hangs the call up; true when the provider took it (or the call was gone already: 404). Blocks. */
    boolean hangup(String callId) {
        try {
            return hangupLater(callId).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return false;
        }
    }

    /**
     * Hangs the call up without holding a thread (an ending may run on the relay's single timer
     * thread or the cluster's event thread, which a slow provider must not stall): completes with
     * true when the provider took it (or the call was gone already: 404); a failure or a 5xx is
     * tried once more.
     */
    java.util.concurrent.CompletableFuture<Boolean> hangupLater(String callId) {
        URI uri = URI.create(calls + "/" + URLEncoder.encode(callId, StandardCharsets.UTF_8) + "/hangup");
        java.util.concurrent.CompletableFuture<Boolean> done = new java.util.concurrent.CompletableFuture<>();
        hangup(uri, callId, 1, done);
        return done;
    }

    private void hangup(URI uri, String callId, int attempt, java.util.concurrent.CompletableFuture<Boolean> done) {
        try {
            http.newRequest(uri).method(HttpMethod.POST)
                    .headers(h -> h.put("Authorization", "Bearer " + apiKey))
                    .timeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .send(result -> {
                        // a failed result may carry the provider's answer (a 401 without WWW-Authenticate)
                        int status = result.getResponse() == null ? 0 : result.getResponse().getStatus();
                        if (status / 100 == 2 || status == 404) {
                            done.complete(true);
                            return;
                        }
                        if (status > 0) {
                            LOG.warn("The provider answered {} to the hang-up of call {}", status, callId);
                        } else {
                            LOG.warn("Could not hang up call {} (attempt {}): {}", callId, attempt, RootCause.of(result.getFailure()));
                        }
                        if (attempt < 2 && status / 100 != 4) {
                            hangup(uri, callId, attempt + 1, done);
                        } else {
                            done.complete(false);
                        }
                    });
        } catch (RuntimeException e) {
            LOG.warn("Could not hang up call {}: {}", callId, RootCause.of(e));
            done.complete(false);
        }
    }
}

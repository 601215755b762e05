package ducke.relay;

import com.fasterxml.jackson.databind.ObjectMapper;
import ducke.core.cost.CostGuard;
import ducke.http.RateLimitGate;
import ducke.metrics.RelayMetrics;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/** Everything a relayed session needs from the node, built once. */
record RelayContext(CostGuard guard, RateLimitGate gate, Clock clock, ObjectMapper mapper, GatewayEvents events,
                    RelayMetrics metrics, RelayRegistry registry, UpstreamClient upstream, URI upstreamUrl, String apiKey,
                    Duration connectTimeout, long maxFrameBytes, long maxUpstreamFrameBytes, long maxBufferedBytes, Duration idleTimeout, Duration pingInterval,
                    Map<String, String> toolFunctions, ScheduledExecutorService timers, int maxResponsesInFlight,
                    Duration finalUsageWait, long minInputReserveTokens, ClientEventPolicy.Allowed allowedInput,
                    Goodbye.Settings goodbye) {

    /**
     * What one read or write on a relayed socket (client or upstream) takes at most: large enough
     * for a whole audio event, so that one is not read in several system calls. Buffers are pooled
     * and held only while data is being read or written.
     */
    static final int SOCKET_BUFFER_BYTES = 32 * 1024;

    /** {@code f}, or completed anyway after {@code finalUsageWait} (at once when the timers are stopping). */
    CompletableFuture<Void> withinFinalUsageWait(CompletableFuture<Void> f) {
        CompletableFuture<Void> bounded = new CompletableFuture<>();
        f.whenComplete((v, e) -> bounded.complete(null));
        try {
            ScheduledFuture<?> giveUp = timers.schedule(() -> bounded.complete(null), finalUsageWait.toMillis(), TimeUnit.MILLISECONDS);
            bounded.whenComplete((v, e) -> giveUp.cancel(false));
        } catch (RejectedExecutionException stopping) {
            bounded.complete(null);
        }
        return bounded;
    }
}

package ducke.relay;

import com.fasterxml.jackson.databind.ObjectMapper;
import ducke.core.cost.CostGuard;
import ducke.http.RateLimitGate;
import ducke.metrics.RelayMetrics;

import java.net.URI;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;

/** Everything a relayed session needs from the node, built once. */
record RelayContext(CostGuard guard, RateLimitGate gate, Clock clock, ObjectMapper mapper, GatewayEvents events,
                    RelayMetrics metrics, RelayRegistry registry, HttpClient http, URI upstreamUrl, String apiKey,
                    Duration connectTimeout, long maxFrameBytes, long maxBufferedBytes, Duration idleTimeout, Duration pingInterval,
                    Map<String, String> toolFunctions, ScheduledExecutorService timers) {
}

package ducke.relay;

import com.fasterxml.jackson.databind.ObjectMapper;
import ducke.cluster.ClusterNode;
import ducke.config.RelayFactory;
import ducke.config.UpstreamFactory;
import ducke.core.cost.CostGuard;
import ducke.http.ErrorResponses;
import ducke.http.RateLimitGate;
import ducke.metrics.GuardMetrics;
import ducke.metrics.RelayMetrics;
import io.dropwizard.core.setup.Environment;
import jakarta.servlet.DispatcherType;
import org.eclipse.jetty.ee10.websocket.server.config.JettyWebSocketServletContainerInitializer;

import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** Wires the {@code /session} relay into the application. */
public final class Relay {

    private Relay() {
    }

    public static RelayRegistry install(Environment env, UpstreamFactory upstream, RelayFactory relay, CostGuard guard,
                                        RateLimitGate gate, ClusterNode cluster, Clock clock, ErrorResponses errors,
                                        GuardMetrics guardMetrics, ObjectMapper mapper) {
        RelayRegistry registry = new RelayRegistry();
        RelayMetrics metrics = new RelayMetrics(guardMetrics);
        metrics.liveSessions(guardMetrics, registry::size);
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ducke-relay-timers");
            t.setDaemon(true);
            return t;
        });
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(upstream.getConnectTimeout().toMilliseconds())).build();
        RelayContext ctx = new RelayContext(guard, gate, clock, mapper, new GatewayEvents(mapper), metrics, registry, http,
                upstream.uri(), upstream.getApiKey(), Duration.ofMillis(upstream.getConnectTimeout().toMilliseconds()),
                relay.getMaxFrameSize().toBytes(), relay.getMaxBufferedBytes().toBytes(),
                Duration.ofMillis(relay.getIdleTimeout().toMilliseconds()),
                Duration.ofMillis(relay.getUpstreamPingInterval().toMilliseconds()), Map.copyOf(relay.getToolFunctions()), timers);

        cluster.onSessionEnded(registry::ledgerEnded);
        JettyWebSocketServletContainerInitializer.configure(env.getApplicationContext(), null);
        env.servlets().addFilter("relay-handshake", new HandshakeFilter(guard, cluster, registry, clock, errors, metrics,
                        relay.getAllowedOrigins(), upstream.getAllowedModels(), upstream.getModel()))
                .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), true, "/session");
        env.servlets().addServlet("relay", new RelayServlet(ctx)).addMapping("/session");
        // end live sessions (node_shutdown) as soon as the server starts stopping, before connectors close
        env.lifecycle().addEventListener(new org.eclipse.jetty.util.component.LifeCycle.Listener() {
            @Override
            public void lifeCycleStopping(org.eclipse.jetty.util.component.LifeCycle event) {
                registry.shutdown();
                timers.shutdownNow();
            }
        });
        return registry;
    }
}

package ducke.relay;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.ObjectMapper;
import ducke.cluster.ClusterNode;
import ducke.config.RelayFactory;
import ducke.config.UpstreamFactory;
import ducke.core.auth.ClientSecrets;
import ducke.core.cost.CostGuard;
import ducke.http.ErrorResponses;
import ducke.http.RateLimitGate;
import ducke.metrics.GuardMetrics;
import ducke.metrics.RelayMetrics;
import io.dropwizard.core.setup.Environment;
import jakarta.servlet.DispatcherType;
import org.eclipse.jetty.ee10.websocket.server.config.JettyWebSocketServletContainerInitializer;

import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** Wires the {@code /session} relay into the application. */
public final class Relay {

    /** Where the relay is served: its own path, and the realtime API's, so SDKs need only a base URL. */
    static final String[] PATHS = {"/session", "/v1/realtime"};

    private Relay() {
    }

    public static RelayRegistry install(Environment env, UpstreamFactory upstream, RelayFactory relay, CostGuard guard,
                                        RateLimitGate gate, ClusterNode cluster, Clock clock, ErrorResponses errors,
                                        GuardMetrics guardMetrics, ObjectMapper mapper, ClientSecrets secrets) {
        RelayRegistry registry = new RelayRegistry();
        RelayMetrics metrics = new RelayMetrics(guardMetrics);
        metrics.liveSessions(guardMetrics, registry::size);
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ducke-relay-timers");
            t.setDaemon(true);
            return t;
        });
        UpstreamClient upstreamClient = new UpstreamClient(Duration.ofMillis(upstream.getConnectTimeout().toMilliseconds()),
                relay.getMaxUpstreamFrameSize().toBytes());
        env.lifecycle().manage(upstreamClient);
        // the provider's events are read leniently about a key written twice (request bodies are not), so that a
        // response.done the provider billed is never left unmetered for its JSON style; the client event policy
        // asks for strictness itself
        ObjectMapper relayMapper = mapper.copy();
        relayMapper.getFactory().disable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        RelayContext ctx = new RelayContext(guard, gate, clock, relayMapper, new GatewayEvents(relayMapper), metrics, registry, upstreamClient,
                upstream.uri(), upstream.getApiKey(), Duration.ofMillis(upstream.getConnectTimeout().toMilliseconds()),
                relay.getMaxFrameSize().toBytes(), relay.getMaxUpstreamFrameSize().toBytes(), relay.getMaxBufferedBytes().toBytes(),
                Duration.ofMillis(relay.getIdleTimeout().toMilliseconds()),
                Duration.ofMillis(relay.getUpstreamPingInterval().toMilliseconds()), Map.copyOf(relay.getToolFunctions()), timers,
                relay.getMaxResponsesInFlight(), Duration.ofMillis(relay.getFinalUsageWait().toMilliseconds()),
                relay.getMinInputReserveTokens(),
                new ClientEventPolicy.Allowed(java.util.Set.copyOf(relay.getAllowedToolTypes()), relay.isAllowPromptReferences()),
                new Goodbye.Settings(relay.getGoodbyeInstructions(), relay.getGoodbyeReserveTokens()));

        cluster.onSessionEnded(registry::ledgerEnded);
        // a cap set on any node: the session resumes off the event thread (its next reservation is a grid call)
        cluster.onSessionCapChanged(l -> ctx.upstream().executor().execute(() -> registry.capChanged(l)));
        // a client's budgets set by a backend: its sessions paused for client_budget_exceeded may go on
        cluster.onClientBudgetChanged(c -> ctx.upstream().executor().execute(() -> registry.resumePausedFor(c)));
        cluster.health().addListener(registry::quorumLost);
        JettyWebSocketServletContainerInitializer.configure(env.getApplicationContext(), null);
        ClientAuth clientAuth = new ClientAuth(ClientAuth.mode(relay.getClientAuth()), secrets);
        env.servlets().addFilter("relay-handshake", new HandshakeFilter(guard, cluster, registry, clock, errors, metrics,
                        relay.getAllowedOrigins(), upstream.modelAllowList(),
                        !upstream.getApiKey().isBlank(), clientAuth, relay.getMinInputReserveTokens()))
                .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), true, PATHS);
        env.servlets().addServlet("relay", new RelayServlet(ctx)).addMapping(PATHS);
        // WebRTC calls: the offer through the same gates, the call metered through its sideband
        Duration attach = Duration.ofMillis(relay.getCallAttachTimeout().toMilliseconds());
        CallContext calls = new CallContext(new ProviderCalls(upstreamClient.http(), upstream.callsUri(), upstream.getApiKey(),
                Duration.ofMillis(Math.max(upstream.getConnectTimeout().toMilliseconds(), 10_000))), attach, cluster.callDirectory());
        env.servlets().addServlet("calls", new CallsServlet(ctx, calls, cluster, errors, new OriginCheck(relay.getAllowedOrigins()),
                upstream.modelAllowList(), clientAuth)).addMapping(CallsServlet.PATH);
        CallAdoption adoption = new CallAdoption(ctx, calls, cluster);
        cluster.adoptLostSessionsWith(adoption::adopt);
        // end live sessions (node_shutdown) as soon as the server starts stopping, before connectors close
        env.lifecycle().addEventListener(new org.eclipse.jetty.util.component.LifeCycle.Listener() {
            @Override
            public void lifeCycleStopping(org.eclipse.jetty.util.component.LifeCycle event) {
                registry.shutdown(Duration.ofMillis(relay.endingWaitMillis()));
                timers.shutdownNow();
            }
        });
        return registry;
    }
}

package ducke;

import com.fasterxml.jackson.core.JsonGenerator;
import ducke.audit.Audit;
import ducke.cli.AuditCommand;
import ducke.core.cost.CostObserver;
import ducke.resources.AuditResource;
import ducke.auth.AuthSetup;
import ducke.cluster.SessionReaper;
import ducke.config.CostProtectionFactory;
import ducke.core.cost.CostGuard;
import ducke.core.cost.CostLimits;
import ducke.core.cost.SessionIds;
import ducke.core.cost.SpendView;
import ducke.http.CircuitBreakerGate;
import ducke.metrics.CostMetrics;
import ducke.resources.SessionsResource;
import ducke.tasks.EndSessionTask;
import ducke.tasks.ResetCircuitBreakerTask;
import ducke.tasks.TripCircuitBreakerTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ducke.cluster.ClusterNode;
import ducke.core.identity.ClientIdentityResolver;
import ducke.core.ratelimit.LocalDenials;
import ducke.core.ratelimit.RateLimiter;
import ducke.errors.ApiExceptionMapper;
import ducke.errors.CatchAllExceptionMapper;
import ducke.errors.ConstraintViolationExceptionMapper;
import ducke.errors.JsonProcessingExceptionMapper;
import ducke.errors.WebApplicationExceptionMapper;
import ducke.health.ClusterHealthCheck;
import ducke.health.UpstreamHealthCheck;
import ducke.relay.Relay;
import ducke.http.ErrorResponses;
import ducke.http.JsonErrorHandler;
import ducke.http.MetricsAccessFilter;
import ducke.http.RateLimitFilter;
import ducke.http.RateLimitGate;
import ducke.http.RequestBodyFilter;
import ducke.metrics.GuardMetrics;
import ducke.resources.HomeResource;
import ducke.resources.StatusResource;
import ducke.resources.ToolQuotaResource;
import ducke.tasks.BadTaskInput;
import ducke.tasks.ResetRateLimitsTask;
import io.dropwizard.configuration.EnvironmentVariableSubstitutor;
import io.dropwizard.configuration.SubstitutingSourceProvider;
import io.dropwizard.core.Application;
import io.dropwizard.core.server.AbstractServerFactory;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import ducke.metrics.MetricsServlet;
import jakarta.servlet.DispatcherType;

import java.time.Clock;
import java.util.EnumSet;
import java.util.Objects;

/** DUCK-E Guard: {@link #run} wires the subsystems together and holds no logic of its own. */
public class DuckeApplication extends Application<DuckeConfiguration> {

    private static final Logger LOG = LoggerFactory.getLogger(DuckeApplication.class);
    private static final String COMMON_POOL_PARALLELISM = "java.util.concurrent.ForkJoinPool.common.parallelism";

    private final Clock clock;

    public DuckeApplication() {
        this(Clock.systemUTC());
    }

    /** @param clock the one clock of this application; tests pass a controllable one */
    public DuckeApplication(Clock clock) {
        this.clock = clock;
    }

    public static void main(String[] args) throws Exception {
        // Hazelcast completes asynchronous grid calls on the common pool only when it has at least two
        // threads; otherwise it starts a thread per call (measured: 6.5x slower rate-limit checks on 2 cores)
        if (System.getProperty(COMMON_POOL_PARALLELISM) == null) {
            System.setProperty(COMMON_POOL_PARALLELISM,
                    Integer.toString(Math.max(2, Runtime.getRuntime().availableProcessors() - 1)));
        }
        new DuckeApplication().run(args);
    }

    @Override
    public String getName() {
        return "duck-e";
    }

    @Override
    public void initialize(Bootstrap<DuckeConfiguration> bootstrap) {
        bootstrap.setConfigurationSourceProvider(new SubstitutingSourceProvider(
                bootstrap.getConfigurationSourceProvider(), new EnvironmentVariableSubstitutor(false, true)));
        bootstrap.addCommand(new AuditCommand(clock, System.out));
        // money leaves as plain decimals: 0.000000001, never 1E-9
        bootstrap.getObjectMapper().enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN);
    }

    @Override
    public void run(DuckeConfiguration config, Environment env) {
        LocalDenials denials = config.getRateLimits().buildLocalDenials();
        ClusterNode cluster = ClusterNode.start(config.getHazelcast(), config.resolvedNodeName(), denials);
        env.lifecycle().manage(cluster);
        try {
            wire(config, env, cluster, denials);
        } catch (RuntimeException e) {
            cluster.stop();
            throw e;
        }
    }

    private void wire(DuckeConfiguration config, Environment env, ClusterNode cluster, LocalDenials denials) {
        RateLimiter limiter = config.getRateLimits().build(
                cluster.rateLimitStore(config.getRateLimits().getGridTimeout().toMilliseconds()), denials);
        GuardMetrics metrics = new GuardMetrics(env.metrics(), cluster, denials);
        RateLimitGate gate = new RateLimitGate(limiter, metrics, clock);
        ErrorResponses errors = new ErrorResponses(env.getObjectMapper());
        ClientIdentityResolver identity = config.getClientIdentity().build();

        registerErrorHandling(config, env, errors);
        env.servlets().addFilter("rate-limit", new RateLimitFilter(identity, gate, errors))
                .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");
        // registered last but matched first: it also drains bodies of requests the rate limiter refused
        env.servlets().addFilter("request-body", new RequestBodyFilter(config.getMaxRequestBodySize().toBytes(), errors))
                .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");
        env.servlets().addFilter("metrics-access", new MetricsAccessFilter(config.getMetricsAccess().allowed(), errors))
                .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), true, "/metrics");
        env.servlets().addServlet("metrics", new MetricsServlet(metrics)).addMapping("/metrics");

        Audit audit = Audit.install(env, config.getAudit(), clock, cluster.nodeName(), metrics);
        CostGuard guard = costProtection(config, env, cluster, metrics, audit);

        AuthSetup.register(env.jersey(), config.getAuth().build());
        env.jersey().register(new CircuitBreakerGate(guard.view(), clock));
        StatusResource status = new StatusResource(cluster, limiter, guard, clock, clock.instant(), version());
        env.jersey().register(status);
        env.jersey().register(new HomeResource(status));
        env.jersey().register(new ToolQuotaResource(gate));
        env.jersey().register(new SessionsResource(guard, gate, clock, config.getUpstream().getModel()));
        Relay.install(env, config.getUpstream(), config.getRelay(), guard, gate, cluster, clock, errors, metrics,
                env.getObjectMapper());

        env.jersey().register(new AuditResource(audit.dao(), clock));

        env.admin().addTask(new ResetRateLimitsTask(limiter, audit.journal()));
        env.admin().addTask(new TripCircuitBreakerTask(guard, clock, audit.journal()));
        env.admin().addTask(new ResetCircuitBreakerTask(guard, clock, audit.journal()));
        env.admin().addTask(new EndSessionTask(guard, clock, audit.journal()));
        env.admin().addFilter("bad-task-input", new BadTaskInput.StatusFilter())
                .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), true, "/tasks/*");
        env.healthChecks().register("cluster", new ClusterHealthCheck(cluster));
        env.healthChecks().register("upstream", new UpstreamHealthCheck(config.getUpstream()));
    }

    /** Prices, limits, ledgers in the grid, the breaker's broadcast and this node's reaper. */
    private CostGuard costProtection(DuckeConfiguration config, Environment env, ClusterNode cluster, GuardMetrics metrics,
                                     Audit audit) {
        CostProtectionFactory cp = config.getCostProtection();
        CostLimits limits = cp.limits();
        CostMetrics costMetrics = new CostMetrics(metrics, limits);
        CostGuard guard = new CostGuard(config.getPrices().build(), limits, cluster.sessionStore(), cluster.spendStore(),
                new SpendView(), cluster.breakerBroadcast(), CostObserver.both(costMetrics, audit.breakerJournal()),
                cluster.nodeName(), SessionIds::next);
        SessionReaper reaper = cluster.sessionReaper(guard, audit.sink(), clock,
                cp.getEndedSessionRetention().toMilliseconds(), cp.getSweepInterval().toMilliseconds());
        costMetrics.activeSessions(metrics, reaper::localActive);
        audit.watchBacklog(env, metrics, reaper::localPending);
        guard.announceEndingsTo(cluster.sessionEndings());
        cluster.onBreakerChange(snapshot -> {
            guard.view().force(snapshot);
            costMetrics.spend(snapshot);
            if (snapshot.breakerOpen()) {
                LOG.warn("Circuit breaker OPEN (cause: {}); live sessions are being ended", snapshot.breakerCause());
                reaper.wake();
            } else {
                LOG.warn("Circuit breaker closed");
            }
        });
        env.lifecycle().manage(reaper);
        return guard;
    }

    private static void registerErrorHandling(DuckeConfiguration config, Environment env, ErrorResponses errors) {
        if (config.getServerFactory() instanceof AbstractServerFactory server) {
            server.setRegisterDefaultExceptionMappers(false);
        }
        env.jersey().register(new ApiExceptionMapper());
        env.jersey().register(new WebApplicationExceptionMapper());
        env.jersey().register(new JsonProcessingExceptionMapper());
        env.jersey().register(new ConstraintViolationExceptionMapper());
        env.jersey().register(new CatchAllExceptionMapper());
        JsonErrorHandler handler = new JsonErrorHandler(errors);
        env.lifecycle().addServerLifecycleListener(server -> server.setErrorHandler(handler));
    }

    private String version() {
        return Objects.requireNonNullElse(getClass().getPackage().getImplementationVersion(), "dev");
    }
}

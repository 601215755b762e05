package ducke;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import ducke.audit.Audit;
import ducke.audit.SpendRebuildRunner;
import ducke.core.cost.StateRebuild;
import ducke.cli.AuditCommand;
import ducke.cli.PortCheck;
import ducke.cli.ServeCommand;
import ducke.cli.ValidateCommand;
import ducke.core.cost.ChargeJournal;
import ducke.core.drain.Drain;
import ducke.http.DrainFilter;
import ducke.relay.NodeDrain;
import ducke.relay.RelayRegistry;
import ducke.tasks.DrainTask;
import ducke.cli.StartupException;
import ducke.journal.JournalFile;
import io.dropwizard.lifecycle.Managed;
import ducke.core.cost.CostObserver;
import ducke.resources.AuditResource;
import ducke.resources.ClientIds;
import ducke.auth.AuthSetup;
import ducke.cluster.SessionReaper;
import ducke.audit.ReservationSweeper;
import ducke.core.cost.ApiReservations;
import ducke.config.CostProtectionFactory;
import ducke.config.SettingsSync;
import ducke.core.settings.LiveSettings;
import ducke.tasks.ApplySettingsTask;
import ducke.tasks.ShowSettingsTask;
import ducke.core.cost.CostGuard;
import ducke.core.cost.ModelAllowList;
import ducke.core.cost.ModelPrice;
import ducke.core.cost.PriceTable;
import ducke.core.cost.SessionIds;
import ducke.core.cost.SpendView;
import ducke.http.CircuitBreakerGate;
import ducke.http.DecodableQueryRequestLog;
import ducke.metrics.CostMetrics;
import ducke.resources.HealthProbesResource;
import ducke.resources.KeyedAnswers;
import ducke.resources.OperatorResource;
import ducke.resources.OperatorSessionsResource;
import ducke.resources.SessionsResource;
import ducke.resources.ClientBudgetsResource;
import ducke.resources.ClientSecretsResource;
import ducke.core.auth.ClientSecrets;
import ducke.core.auth.TokenRegistry;
import ducke.tasks.AdminActions;
import ducke.tasks.EndSessionTask;
import ducke.tasks.OperatorTokenFilter;
import ducke.tasks.ResetCircuitBreakerTask;
import ducke.tasks.TripCircuitBreakerTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ducke.cluster.ClusterNode;
import ducke.core.identity.ClientIdentityResolver;
import ducke.core.ratelimit.LocalDenials;
import ducke.core.ratelimit.RateLimiter;
import ducke.errors.ApiExceptionMapper;
import ducke.errors.AuditStoreExceptionMapper;
import ducke.errors.CatchAllExceptionMapper;
import ducke.errors.ClusterUnavailableExceptionMapper;
import ducke.errors.ConstraintViolationExceptionMapper;
import ducke.errors.JsonProcessingExceptionMapper;
import ducke.errors.WebApplicationExceptionMapper;
import ducke.health.ClusterHealthCheck;
import ducke.health.UpstreamHealthCheck;
import ducke.relay.Relay;
import ducke.http.ErrorResponses;
import ducke.http.JsonErrorHandler;
import ducke.http.LeaseReturns;
import ducke.http.MetricsAccessFilter;
import ducke.http.RateLimitFilter;
import ducke.http.RateLimitGate;
import ducke.http.RequestBodyFilter;
import ducke.metrics.GuardMetrics;
import ducke.resources.ConsoleResource;
import ducke.resources.HomeResource;
import ducke.resources.StatusResource;
import ducke.resources.ToolQuotaResource;
import ducke.tasks.ResetRateLimitsTask;
import ducke.tasks.TaskAnswerFilter;
import ducke.config.ConfigVariableSource;
import io.dropwizard.core.Application;
import io.dropwizard.core.server.AbstractServerFactory;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import ducke.metrics.MetricsServlet;
import jakarta.servlet.DispatcherType;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.component.LifeCycle;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/** DUCK-E Guard: {@link #run} wires the subsystems together and holds no logic of its own. */
public class DuckeApplication extends Application<DuckeConfiguration> {

    private static final Logger LOG = LoggerFactory.getLogger(DuckeApplication.class);
    private static final String COMMON_POOL_PARALLELISM = "java.util.concurrent.ForkJoinPool.common.parallelism";

    private final Clock clock;
    private final Function<String, String> variables;
    private volatile NodeDrain drain;
    private volatile RelayRegistry relayed;
    /** The session API's reservations, once {@link #costProtection} has wired them. */
    private ApiReservations reservations;

    public DuckeApplication() {
        this(Clock.systemUTC());
    }

    /** @param clock the one clock of this application; tests pass a controllable one */
    public DuckeApplication(Clock clock) {
        this(clock, System::getenv);
    }

    /**
     * @param variables where config.yml's {@code ${VAR}} values come from: the environment in
     *                  production, an explicit map in tests
     */
    public DuckeApplication(Clock clock, Function<String, String> variables) {
        this.clock = clock;
        this.variables = variables;
    }

    public static void main(String[] args) throws Exception {
        // Hazelcast completes asynchronous grid calls on the common pool only when it has at least two
        // threads; otherwise it starts a thread per call (measured: 6.5x slower rate-limit checks on 2 cores)
        if (System.getProperty(COMMON_POOL_PARALLELISM) == null) {
            System.setProperty(COMMON_POOL_PARALLELISM,
                    Integer.toString(Math.max(2, Runtime.getRuntime().availableProcessors() - 1)));
        }
        // the embedded H2 store (AUTO_SERVER=TRUE, so that `audit` can read it while the node runs) opens a
        // TCP port for other local processes; it has no business on other interfaces
        if (System.getProperty("h2.bindAddress") == null) {
            System.setProperty("h2.bindAddress", "127.0.0.1");
        }
        new DuckeApplication().run(args);
    }

    @Override
    public String getName() {
        return "duck-e";
    }

    @Override
    public void initialize(Bootstrap<DuckeConfiguration> bootstrap) {
        bootstrap.setConfigurationSourceProvider(ConfigVariableSource.substituting(bootstrap.getConfigurationSourceProvider(), variables));
        bootstrap.addCommand(new AuditCommand(clock, System.out));
        // money leaves as plain decimals: 0.000000001, never 1E-9
        bootstrap.getObjectMapper().enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN);
        // and decimals arrive exact: a fraction read into a tree (a duration's seconds, in a report or
        // an upstream event) keeps its digits instead of passing through a double
        bootstrap.getObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
        // {"input_tokens": 5, "input_tokens": 7000000}: a proxy or log reader may see the first, we the last
        bootstrap.getObjectMapper().getFactory().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    }

    /** {@code server} and {@code check}, reporting configuration errors without a stack trace. */
    @Override
    protected void addDefaultCommands(Bootstrap<DuckeConfiguration> bootstrap) {
        bootstrap.addCommand(new ServeCommand<>(this, this::drain));
        bootstrap.addCommand(new ValidateCommand<>(this, System.out));
    }

    @Override
    public void run(DuckeConfiguration config, Environment env) {
        config.getTls().addConnectorTo(config.getServerFactory());
        PortCheck.requireFree(config.getServerFactory());
        JournalFile journal = openJournal(config, env);
        LocalDenials denials = config.getRateLimits().buildLocalDenials();
        ClusterNode cluster;
        try {
            cluster = ClusterNode.start(config.getHazelcast(), config.resolvedNodeName(), denials);
        } catch (RuntimeException e) {
            closeQuietly(journal);
            throw e;
        }
        env.lifecycle().manage(cluster);
        try {
            wire(config, env, cluster, denials, journal);
        } catch (RuntimeException e) {
            cluster.stop();
            closeQuietly(journal);
            throw e;
        }
    }

    /**
     * Opens this node's charge journal and locks it for this process; what an earlier process left
     * in it is applied once the cluster has a quorum. Closed after everything else has stopped.
     */
    private static JournalFile openJournal(DuckeConfiguration config, Environment env) {
        JournalFile journal;
        try {
            journal = JournalFile.open(Path.of(config.getDataDir()));
        } catch (JournalFile.Unavailable e) {
            throw new StartupException(e.getMessage());
        } catch (IOException e) {
            throw new StartupException("Cannot start: the charge journal in " + Path.of(config.getDataDir()).toAbsolutePath()
                    + " (DUCKE_DATA_DIR, dataDir) cannot be opened: " + e);
        }
        if (!journal.restored().isEmpty()) {
            LOG.warn("Charge journal {}: {} charges and ends of an earlier process, applied once the cluster has a quorum",
                    journal.path(), journal.restored().size());
        }
        env.lifecycle().manage(new Managed() {
            @Override
            public void stop() throws IOException {
                journal.close();
            }
        });
        return journal;
    }

    private static void closeQuietly(JournalFile journal) {
        try {
            journal.close();
        } catch (IOException e) {
            LOG.warn("Charge journal {}: closing failed: {}", journal.path(), e.toString());
        }
    }

    private void wire(DuckeConfiguration config, Environment env, ClusterNode cluster, LocalDenials denials,
                      JournalFile journal) {
        // prices, caps, limits and client prefixes: the cluster's version, whatever this node's config.yml says
        SettingsSync settings = SettingsSync.start(cluster.settingsStore(), config);
        LiveSettings live = settings.live();
        RateLimiter limiter = config.getRateLimits().build(() -> live.get().rates(),
                cluster.rateLimitStore(config.getRateLimits().getGridTimeout().toMilliseconds()), denials);
        GuardMetrics metrics = new GuardMetrics(env.metrics(), cluster, denials, limiter.endpoints());
        RateLimitGate gate = new RateLimitGate(limiter, metrics, clock);
        // also while limiting is off: a new version of the settings may turn it on
        env.lifecycle().manage(new LeaseReturns(limiter, clock));
        ErrorResponses errors = new ErrorResponses(env.getObjectMapper());
        ClientIdentityResolver identity = config.getClientIdentity().build();
        identity.usePrefixes(live.get().ipv4Prefix(), live.get().ipv6Prefix());
        live.onChange(s -> identity.usePrefixes(s.ipv4Prefix(), s.ipv6Prefix()));

        registerErrorHandling(config, env, errors);
        env.servlets().addFilter("rate-limit", new RateLimitFilter(identity, gate, errors))
                .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");
        // matched before the rate limiter: a session refused for the drain spends no limit
        Drain draining = new Drain(config.getDrainTimeout().toMilliseconds());
        env.servlets().addFilter("drain", new DrainFilter(draining, errors))
                .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, DrainFilter.PATHS);
        // registered last but matched first: it also drains bodies of requests the rate limiter refused
        env.servlets().addFilter("request-body", new RequestBodyFilter(config.getMaxRequestBodySize().toBytes(), errors))
                .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");
        env.servlets().addFilter("metrics-access", new MetricsAccessFilter(config.getMetricsAccess().allowed(), errors))
                .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), true, "/metrics");
        env.servlets().addServlet("metrics", new MetricsServlet(metrics)).addMapping("/metrics");

        Audit audit = Audit.install(env, config.getAudit(), clock, cluster.nodeName(), metrics,
                cluster.chargeBuffer());
        CostGuard guard = costProtection(config, env, cluster, metrics, audit, journal, live);

        TokenRegistry tokens = config.getAuth().build();
        AuthSetup.register(env.jersey(), tokens);
        env.jersey().register(new CircuitBreakerGate(guard.view(), clock));
        StatusResource status = new StatusResource(cluster, limiter, guard, live, clock, clock.instant(), version());
        env.jersey().register(status);
        env.jersey().register(new HomeResource(status));
        env.jersey().register(new ConsoleResource());
        env.jersey().register(new HealthProbesResource(cluster, draining, guard::ready));
        ClientIds clientIds = new ClientIds(identity);
        env.jersey().register(new ToolQuotaResource(gate, clientIds));
        // backends of the session API talk to the model themselves: any model with a configured price, or the relay's
        ModelAllowList relayModels = config.getUpstream().modelAllowList();
        KeyedAnswers keyedAnswers = new KeyedAnswers(cluster.reportAnswers(), env.getObjectMapper(),
                config.getCostProtection().getEndedSessionRetention().toMilliseconds());
        ClientSecrets secrets = new ClientSecrets(cluster.clientSecretStore());
        env.jersey().register(new ClientSecretsResource(secrets, clock, relayModels, () -> guard.limits().maxSessionCostNanoUsd(),
                clientIds));
        relayed = Relay.install(env, config.getUpstream(), config.getRelay(), guard, gate, cluster, clock, errors, metrics,
                env.getObjectMapper(), secrets);
        relayed.pauseAtCap(config.getCostProtection().pausesOnCap(),
                java.time.Duration.ofMillis(config.getCostProtection().getPauseTimeout().toMilliseconds()),
                cluster.sessionPauses(), audit.pauseNotes()::ended);
        env.jersey().register(new SessionsResource(guard, gate, clock, () -> relayModels.with(guard.prices().models().keySet()),
                clientIds, keyedAnswers, relayed, cluster.sessionPauses(), reservations,
                config.getCostProtection().getEndedSessionRetention().toMilliseconds()));
        env.jersey().register(new ClientBudgetsResource(guard.budgets(), audit.dao(), clock, clientIds,
                cluster.clientBudgetChanges()));
        drain = new NodeDrain(draining, relayed, clock,
                java.time.Duration.ofMillis(config.getRelay().endingWaitMillis()));
        metrics.nodeDraining(draining::draining);

        env.jersey().register(new AuditResource(audit.dao(), clock, clientIds));
        AdminActions actions = new AdminActions(guard, clock, audit.journal());
        env.jersey().register(new OperatorSessionsResource(cluster.activity(), actions));
        env.jersey().register(new OperatorResource(cluster.activity(), actions, guard, audit.dao(), clock));

        OperatorTokenFilter.protect(env.admin(), config.getServerFactory(), tokens, errors);
        env.admin().addTask(new ResetRateLimitsTask(limiter, identity, audit.journal()));
        env.admin().addTask(new TripCircuitBreakerTask(actions, audit.journal()));
        env.admin().addTask(new ResetCircuitBreakerTask(actions, audit.journal()));
        env.admin().addTask(new EndSessionTask(actions, audit.journal()));
        env.admin().addTask(new DrainTask(drain, audit.journal()));
        env.admin().addTask(new ApplySettingsTask(settings, guard, audit.journal()));
        env.admin().addTask(new ShowSettingsTask(settings));
        env.admin().addFilter("task-answers", new TaskAnswerFilter(errors))
                .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), true, "/tasks/*");
        env.healthChecks().register("cluster", new ClusterHealthCheck(cluster));
        env.healthChecks().register("upstream", new UpstreamHealthCheck(config.getUpstream()));
    }

    /** Prices, limits, ledgers in the grid, the breaker's broadcast and this node's reaper. */
    private CostGuard costProtection(DuckeConfiguration config, Environment env, ClusterNode cluster, GuardMetrics metrics,
                                     Audit audit, JournalFile journal, LiveSettings live) {
        CostProtectionFactory cp = config.getCostProtection();
        CostMetrics costMetrics = new CostMetrics(metrics, live.get().limits(), modelLabels(live.get().prices()));
        CostGuard guard = new CostGuard(live, cluster.sessionStore(), cluster.spendStore(),
                new SpendView(), cluster.breakerBroadcast(), CostObserver.both(costMetrics, audit.observer()),
                cluster.nodeName(), SessionIds::next, cluster.health(), new ChargeJournal(cp.getJournalCapacity(), journal.restored(), journal),
                CostGuard.newWriter(cluster.nodeName()));
        guard.budgets().use(cluster.budgetStore(), cp.budgets(), cp.budgetZone());
        costMetrics.degradedMode(metrics, cluster.health(), guard.journal());
        SessionReaper reaper = cluster.sessionReaper(guard, audit.sink(), clock,
                cp.getEndedSessionRetention().toMilliseconds(), cp.getSweepInterval().toMilliseconds(),
                config.getAudit().getCheckpointInterval().toMilliseconds());
        costMetrics.activeSessions(metrics, reaper::localActive);
        audit.watchBacklog(env, metrics, reaper::localPending);
        guard.announceEndingsTo(cluster.sessionEndings());
        guard.announceCapsTo(cluster.sessionCaps());
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
        reservations = new ApiReservations(guard, cluster.reservationStore(), guard.observer());
        reaper.beforeLastStop(now -> ReservationSweeper.log(reservations.chargeAllOpen(now),
                "still open when the last member stopped"));
        env.lifecycle().manage(reaper);
        env.lifecycle().manage(new ReservationSweeper(reservations, clock, cp.getSweepInterval().toMilliseconds(),
                cluster.nodeName()));
        StateRebuild rebuild = new StateRebuild(audit.spendHistory(), cluster.rebuildStore(), guard, cluster.breakerBroadcast());
        guard.admitWhen(rebuild::ready);
        env.lifecycle().manage(new SpendRebuildRunner(rebuild, clock, cluster.health()));
        return guard;
    }

    /** The model labels a charge can carry: the configured models, and the fallback for unknown ones. */
    private static List<String> modelLabels(PriceTable prices) {
        List<String> labels = new ArrayList<>(prices.models().values().stream().map(ModelPrice::model).sorted().toList());
        labels.add(PriceTable.UNKNOWN);
        return labels;
    }

    private static void registerErrorHandling(DuckeConfiguration config, Environment env, ErrorResponses errors) {
        if (config.getServerFactory() instanceof AbstractServerFactory server) {
            server.setRegisterDefaultExceptionMappers(false);
        }
        env.jersey().register(new ApiExceptionMapper());
        env.jersey().register(new ClusterUnavailableExceptionMapper());
        env.jersey().register(new AuditStoreExceptionMapper());
        env.jersey().register(new WebApplicationExceptionMapper());
        env.jersey().register(new JsonProcessingExceptionMapper());
        env.jersey().register(new ConstraintViolationExceptionMapper());
        env.jersey().register(new CatchAllExceptionMapper());
        JsonErrorHandler handler = new JsonErrorHandler(errors);
        env.lifecycle().addServerLifecycleListener(server -> server.setErrorHandler(handler));
        env.lifecycle().addEventListener(new LifeCycle.Listener() {
            @Override
            public void lifeCycleStarting(LifeCycle event) {
                if (event instanceof Server server) {
                    DecodableQueryRequestLog.install(server);
                }
            }
        });
    }

    /**
     * The sessions this node relays, once {@link #run} has wired it (null before): where a raised
     * client budget resumes paused sessions ({@link RelayRegistry#resumePausedFor}).
     */
    public RelayRegistry relayed() {
        return relayed;
    }

    /** This node's draining stop, once {@link #run} has wired it (null before). */
    public NodeDrain drain() {
        return drain;
    }

    private String version() {
        return Objects.requireNonNullElse(getClass().getPackage().getImplementationVersion(), "dev");
    }
}

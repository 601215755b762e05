package ducke.audit;

import ducke.config.AuditFactory;
import ducke.core.cost.ChargeBuffer;
import ducke.core.cost.ChargeRecord;
import ducke.core.cost.CostObserver;
import ducke.core.cost.SpendLedger;
import ducke.db.AuditDao;
import ducke.db.AuditJournal;
import ducke.db.JdbiAuditSink;
import ducke.db.H2ShutdownHook;
import ducke.db.Migrations;
import ducke.metrics.GuardMetrics;
import io.dropwizard.core.setup.Environment;
import io.dropwizard.jdbi3.JdbiFactory;
import io.dropwizard.lifecycle.Managed;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.function.IntSupplier;

/** The audit trail wired into the application: schema, DAO, durable sink, journal, metrics. */
public final class Audit {

    private static final Logger LOG = LoggerFactory.getLogger(Audit.class);

    private final AuditDao dao;
    private final JdbiAuditSink sink;
    private final AuditJournal journal;
    private final ChargeBuffer charges;
    private final ducke.db.PauseNotes pauses;

    private Audit(AuditDao dao, JdbiAuditSink sink, AuditJournal journal, ChargeBuffer charges, ducke.db.PauseNotes pauses) {
        this.pauses = pauses;
        this.dao = dao;
        this.sink = sink;
        this.journal = journal;
        this.charges = charges;
    }

    /** @param charges where charge rows wait (in the grid) until this node's reaper writes them */
    public static Audit install(Environment env, AuditFactory config, Clock clock, String node, GuardMetrics metrics,
                                ChargeBuffer charges) {
        int applied = Migrations.apply(config);
        LOG.info("Audit store ready ({} migration(s) applied now)", applied);
        if (config.getUrl().startsWith("jdbc:h2:")) {
            // opened by the migrations: from now on the pool, not H2's own shutdown hook, closes it
            H2ShutdownHook.withdraw();
        }
        Jdbi jdbi = new JdbiFactory().build(env, config.dataSource(), "database");
        AuditDao dao = new AuditDao(jdbi);
        JdbiAuditSink sink = new JdbiAuditSink(dao, clock, config.getBatchSize(), config.getMaxRetryInterval().toMilliseconds());
        AuditJournal journal = new AuditJournal(dao, clock, node);
        env.lifecycle().manage(new Managed() {
            @Override
            public void stop() {
                journal.close();
            }
        });
        GaugeWithCallback.builder().name("audit_database_up").help("1 while the last audit write reached the database")
                .callback(cb -> cb.call(sink.up() ? 1 : 0)).register(metrics.registry());
        GaugeWithCallback.builder().name("audit_records_written")
                .help("Session records this node has written to the audit store since it started")
                .callback(cb -> cb.call(sink.written())).register(metrics.registry());
        GaugeWithCallback.builder().name("audit_charges_written")
                .help("Charge rows this node has written to the audit store since it started")
                .callback(cb -> cb.call(sink.chargesWritten())).register(metrics.registry());
        ducke.db.PauseNotes pauses = new ducke.db.PauseNotes(dao, PAUSE_NOTES_RETRY_MILLIS);
        env.lifecycle().manage(pauses);
        return new Audit(dao, sink, journal, charges, pauses);
    }

    /** Registers the backlog metric and health check once the reaper that holds the backlog exists. */
    public void watchBacklog(Environment env, GuardMetrics metrics, IntSupplier pendingRecords) {
        IntSupplier backlog = () -> pendingRecords.getAsInt() + journal.backlog();
        GaugeWithCallback.builder().name("audit_backlog")
                .help("Final session records and charge rows (in this node's share of the grid) and journal entries not yet written")
                .callback(cb -> cb.call(backlog.getAsInt())).register(metrics.registry());
        env.healthChecks().register("audit", new AuditHealthCheck(dao, sink, backlog));
    }

    /** What a new cluster's first member rebuilds the spend state from ({@link ducke.core.cost.StateRebuild}). */
    public ducke.core.cost.StateRebuild.AuditHistory spendHistory() {
        return new ducke.core.cost.StateRebuild.AuditHistory() {
            @Override
            public ducke.core.cost.SpendRebuild.History read(long fromMillis, long breakerFromMillis, long nowMillis) {
                return dao.spendHistory(fromMillis, breakerFromMillis, nowMillis);
            }

            @Override
            public java.util.Set<ducke.core.cost.StateRebuild.ChargeRef> recorded(
                    java.util.Collection<ducke.core.cost.StateRebuild.ChargeRef> refs) {
                return dao.recordedCharges(refs);
            }

            @Override
            public java.util.Map<String, ducke.core.cost.ClientBudget> budgets(ducke.core.cost.BudgetWindows windows) {
                return dao.budgetHistory(windows);
            }
        };
    }

    /** How often the pauses of ended sessions are offered to rows not written yet. */
    static final long PAUSE_NOTES_RETRY_MILLIS = 500;

    /** Where the pauses of sessions this node held go once they ended (their audit rows). */
    public ducke.db.PauseNotes pauseNotes() {
        return pauses;
    }

    public AuditDao dao() {
        return dao;
    }

    public JdbiAuditSink sink() {
        return sink;
    }

    public AuditJournal journal() {
        return journal;
    }

    /** Records breaker changes made on this node, and keeps every charge applied here for the audit store. */
    public CostObserver observer() {
        return new CostObserver() {
            @Override
            public void breakerChanged(SpendLedger.Snapshot snapshot, String cause) {
                journal.breakerChange(snapshot, cause);
            }

            @Override
            public void chargeRecorded(ChargeRecord record) {
                charges.add(record);
            }
        };
    }
}

package ducke.audit;

import com.codahale.metrics.health.HealthCheck;
import ducke.db.AuditDao;
import ducke.db.JdbiAuditSink;

import java.util.function.IntSupplier;

/** Whether the audit store answers, and how many records wait to be written. */
final class AuditHealthCheck extends HealthCheck {

    private final AuditDao dao;
    private final JdbiAuditSink sink;
    private final IntSupplier backlog;

    AuditHealthCheck(AuditDao dao, JdbiAuditSink sink, IntSupplier backlog) {
        this.dao = dao;
        this.sink = sink;
        this.backlog = backlog;
    }

    @Override
    protected Result check() {
        int waiting = backlog.getAsInt();
        try {
            dao.ping();
        } catch (RuntimeException e) {
            return Result.unhealthy("audit database unreachable; " + waiting + " record(s) wait in the grid");
        }
        if (!sink.up()) {
            return Result.unhealthy("audit writes failing (" + sink.lastError() + "); " + waiting + " record(s) waiting");
        }
        return Result.healthy("audit database up; " + waiting + " record(s) waiting");
    }
}

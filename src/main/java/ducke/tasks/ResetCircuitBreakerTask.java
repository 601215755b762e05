package ducke.tasks;

import ducke.core.cost.CostGuard;
import ducke.db.AuditJournal;

import java.io.PrintWriter;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /tasks/reset-circuit-breaker}: closes the breaker on every node now. Resetting a closed
 * breaker changes nothing (no new breaker change is recorded).
 */
public final class ResetCircuitBreakerTask extends JournaledTask {

    private final CostGuard guard;
    private final Clock clock;

    public ResetCircuitBreakerTask(CostGuard guard, Clock clock, AuditJournal journal) {
        super("reset-circuit-breaker", journal);
        this.guard = guard;
        this.clock = clock;
    }

    @Override
    protected void run(Map<String, List<String>> parameters, PrintWriter output) {
        long now = clock.millis();
        if (!guard.refreshSpend(now).breakerOpenAt(now)) {
            output.println("circuit breaker is already closed; nothing changed");
            return;
        }
        guard.resetBreaker(now);
        output.println("circuit breaker closed; spend before now no longer counts toward it");
    }
}

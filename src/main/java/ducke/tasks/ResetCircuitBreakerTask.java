package ducke.tasks;

import ducke.core.cost.CostGuard;
import ducke.db.AuditJournal;

import java.io.PrintWriter;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/** {@code POST /tasks/reset-circuit-breaker}: closes the breaker on every node now. */
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
        guard.resetBreaker(clock.millis());
        output.println("circuit breaker closed; spend before now no longer counts toward it");
    }
}

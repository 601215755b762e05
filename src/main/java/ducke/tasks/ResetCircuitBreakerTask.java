package ducke.tasks;

import ducke.db.AuditJournal;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /tasks/reset-circuit-breaker}: closes the breaker on every node now. Resetting a closed
 * breaker changes nothing (no new breaker change is recorded).
 */
public final class ResetCircuitBreakerTask extends JournaledTask {

    private final AdminActions actions;

    public ResetCircuitBreakerTask(AdminActions actions, AuditJournal journal) {
        super(AdminActions.RESET_BREAKER, journal);
        this.actions = actions;
    }

    @Override
    protected void run(Map<String, List<String>> parameters, PrintWriter output) {
        output.println(actions.reset().text());
    }
}

package ducke.tasks;

import ducke.db.AuditJournal;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /tasks/trip-circuit-breaker[?reason=…]}: opens the breaker on every node now. Tripping
 * an open breaker changes nothing (no new breaker change is recorded, its closing time stays).
 */
public final class TripCircuitBreakerTask extends JournaledTask {

    private final AdminActions actions;

    public TripCircuitBreakerTask(AdminActions actions, AuditJournal journal) {
        super(AdminActions.TRIP_BREAKER, journal);
        this.actions = actions;
    }

    @Override
    protected void run(Map<String, List<String>> parameters, PrintWriter output) {
        List<String> reason = parameters.get("reason");
        String given = reason == null || reason.isEmpty() ? null : reason.get(0);
        String problem = AdminActions.reasonProblem(given);
        if (problem != null) {
            throw BadTaskInput.reject(problem);
        }
        output.println(actions.trip(AdminActions.cause(given)).text());
    }
}

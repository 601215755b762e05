package ducke.tasks;

import ducke.core.cost.CostGuard;
import ducke.core.cost.SpendLedger;
import ducke.db.AuditJournal;

import java.io.PrintWriter;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /tasks/trip-circuit-breaker[?reason=…]}: opens the breaker on every node now. Tripping
 * an open breaker changes nothing (no new breaker change is recorded, its closing time stays).
 */
public final class TripCircuitBreakerTask extends JournaledTask {

    private final CostGuard guard;
    private final Clock clock;

    public TripCircuitBreakerTask(CostGuard guard, Clock clock, AuditJournal journal) {
        super("trip-circuit-breaker", journal);
        this.guard = guard;
        this.clock = clock;
    }

    @Override
    protected void run(Map<String, List<String>> parameters, PrintWriter output) {
        List<String> reason = parameters.get("reason");
        String cause = reason == null || reason.isEmpty() || reason.get(0).isBlank() ? "admin" : "admin: " + reason.get(0).strip();
        if (cause.length() > 200) {
            throw BadTaskInput.reject("reason is too long (at most 190 characters)");
        }
        if (!BadTaskInput.printable(cause).equals(cause)) {
            throw BadTaskInput.reject("reason must be one line of printable text");
        }
        long now = clock.millis();
        SpendLedger.Snapshot current = guard.refreshSpend(now);
        if (current.breakerOpenAt(now)) {
            output.printf("circuit breaker is already open (cause: %s); nothing changed; it closes by itself at %s%n",
                    current.breakerCause(), Instant.ofEpochMilli(current.breakerClosesAtMillis()));
            return;
        }
        SpendLedger.Snapshot s = guard.trip(cause, now);
        output.printf("circuit breaker open (cause: %s); closes by itself at %s%n", s.breakerCause(),
                Instant.ofEpochMilli(s.breakerClosesAtMillis()));
    }
}

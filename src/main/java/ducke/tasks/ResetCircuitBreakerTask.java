package ducke.tasks;

import ducke.core.cost.CostGuard;
import io.dropwizard.servlets.tasks.Task;

import java.io.PrintWriter;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/** {@code POST /tasks/reset-circuit-breaker}: closes the breaker on every node now. */
public final class ResetCircuitBreakerTask extends Task {

    private final CostGuard guard;
    private final Clock clock;

    public ResetCircuitBreakerTask(CostGuard guard, Clock clock) {
        super("reset-circuit-breaker");
        this.guard = guard;
        this.clock = clock;
    }

    @Override
    public void execute(Map<String, List<String>> parameters, PrintWriter output) {
        guard.resetBreaker(clock.millis());
        output.println("circuit breaker closed; spend before now no longer counts toward it");
    }
}

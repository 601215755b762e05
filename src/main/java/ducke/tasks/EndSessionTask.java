package ducke.tasks;

import ducke.core.cost.CostGuard;
import ducke.core.cost.EndReason;
import ducke.core.cost.Money;
import ducke.core.cost.SessionIds;
import ducke.db.AuditJournal;

import java.io.PrintWriter;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/** {@code POST /tasks/end-session?id=…}: ends a session from any node (reason {@code admin_ended}). */
public final class EndSessionTask extends JournaledTask {

    private final CostGuard guard;
    private final Clock clock;

    public EndSessionTask(CostGuard guard, Clock clock, AuditJournal journal) {
        super("end-session", journal);
        this.guard = guard;
        this.clock = clock;
    }

    @Override
    protected void run(Map<String, List<String>> parameters, PrintWriter output) {
        List<String> ids = parameters.get("id");
        String id = ids == null || ids.isEmpty() ? null : ids.get(0).strip();
        if (id == null || id.isEmpty()) {
            throw BadTaskInput.reject("parameter 'id' is required");
        }
        if (!SessionIds.wellFormed(id)) {
            throw BadTaskInput.reject("'" + (id.length() > 48 ? id.substring(0, 48) : id) + "' is not a session id");
        }
        var ended = guard.end(id, EndReason.ADMIN_ENDED, clock.millis())
                .orElseThrow(() -> BadTaskInput.reject("no session '" + id + "'"));
        if (ended.endedNow()) {
            output.printf("session %s ended (admin_ended) at cost %s USD%n", id, Money.usd(ended.ledger().costNanoUsd()).toPlainString());
        } else {
            output.printf("session %s had already ended (%s)%n", id, ended.ledger().endReason().label());
        }
    }
}

package ducke.tasks;

import ducke.core.cost.SessionIds;
import ducke.db.AuditJournal;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/** {@code POST /tasks/end-session?id=…}: ends a session from any node (reason {@code admin_ended}). */
public final class EndSessionTask extends JournaledTask {

    private final AdminActions actions;

    public EndSessionTask(AdminActions actions, AuditJournal journal) {
        super(AdminActions.END_SESSION, journal);
        this.actions = actions;
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
        output.println(actions.endSession(id).orElseThrow(() -> BadTaskInput.reject("no session '" + id + "'")).text());
    }
}

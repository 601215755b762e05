package ducke.db;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.PreparedBatch;

import java.util.ArrayList;
import java.util.List;

/**
 * Writes the pauses of ended sessions into their rows ({@code pauses}, {@code paused_ms}). The
 * session writers never touch these columns, so a row keeps its pauses whichever record replaces
 * it later; a note for a row not written yet matches nothing and is offered again.
 */
final class PauseRows {

    /** The pauses of one ended session. */
    record Note(String sessionId, int pauses, long pausedMillis) {
    }

    private PauseRows() {
    }

    /** Writes the notes whose rows exist; returns those whose row does not (yet). */
    static List<Note> write(Handle h, List<Note> notes) {
        if (notes.isEmpty()) {
            return List.of();
        }
        PreparedBatch updates = h.prepareBatch("UPDATE audit_sessions SET pauses = :pauses, paused_ms = :ms WHERE session_id = :id");
        notes.forEach(n -> updates.bind("pauses", n.pauses()).bind("ms", n.pausedMillis()).bind("id", n.sessionId()).add());
        int[] counts = updates.execute();
        List<Note> missing = new ArrayList<>();
        for (int i = 0; i < notes.size(); i++) {
            if (counts[i] == 0) {
                missing.add(notes.get(i));
            }
        }
        return missing;
    }
}

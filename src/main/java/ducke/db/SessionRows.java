package ducke.db;

import ducke.core.cost.Money;
import ducke.core.cost.SessionRecord;
import ducke.core.cost.TokenKind;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.PreparedBatch;
import org.jdbi.v3.core.statement.SqlStatement;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes session rows: one per session id, open (a checkpoint of a live session) or finished. A
 * finished record replaces an open row, or a finished row with fewer charged responses (a record
 * corrected after a partition merged); an open row replaces only an open row. So every record can
 * be written any number of times, in any order, and the row ends as the latest of them.
 */
final class SessionRows {

    private static final String VALUES = ":id, :client, :node, :model, :started, :ended, :duration, :reason, :textIn, "
            + ":audioIn, :cachedIn, :textOut, :audioOut, :responses, :cost, :version, :recorded, :open";

    private static final String COLUMNS = "session_id, client_id, node, model, started_at_ms, ended_at_ms, duration_ms, "
            + "end_reason, text_input_tokens, audio_input_tokens, cached_input_tokens, text_output_tokens, "
            + "audio_output_tokens, charged_responses, cost_usd, price_version, recorded_at_ms, is_open";

    private static final String INSERT = "INSERT INTO audit_sessions (" + COLUMNS + ") SELECT " + VALUES
            + " WHERE NOT EXISTS (SELECT 1 FROM audit_sessions WHERE session_id = :id)";

    /** PostgreSQL: insert or replace in one statement, safe also when two nodes write one session at once. */
    private static final String UPSERT_POSTGRES = "INSERT INTO audit_sessions AS a (" + COLUMNS + ") VALUES (" + VALUES
            + ") ON CONFLICT (session_id) DO UPDATE SET " + excluded() + " WHERE ";

    private static final String SET = "client_id = :client, node = :node, model = :model, started_at_ms = :started, "
            + "ended_at_ms = :ended, duration_ms = :duration, end_reason = :reason, text_input_tokens = :textIn, "
            + "audio_input_tokens = :audioIn, cached_input_tokens = :cachedIn, text_output_tokens = :textOut, "
            + "audio_output_tokens = :audioOut, charged_responses = :responses, cost_usd = :cost, "
            + "price_version = :version, recorded_at_ms = :recorded, is_open = :open";

    /** Which stored rows a final record replaces: open ones, and final ones with fewer charges. */
    private static final String FINISHES = "(%1$sis_open = TRUE OR %1$scharged_responses < %2$s)";

    /** Which stored rows a checkpoint replaces: open ones not ahead of it. */
    private static final String CHECKPOINTS = "(%1$sis_open = TRUE AND %1$scharged_responses <= %2$s)";

    private SessionRows() {
    }

    /** Writes final records; returns how many rows changed (open rows finished, rows corrected, rows added). */
    static int finish(Handle h, boolean postgres, List<SessionRecord> records, long recordedAtMillis) {
        return write(h, FINISHES, postgres, records, recordedAtMillis, false);
    }

    /** Writes checkpoints of live sessions as open rows; returns how many rows changed. */
    static int checkpoint(Handle h, boolean postgres, List<SessionRecord> records, long recordedAtMillis) {
        return write(h, CHECKPOINTS, postgres, records, recordedAtMillis, true);
    }

    private static String excluded() {
        StringBuilder set = new StringBuilder();
        for (String column : COLUMNS.split(", ")) {
            if (!column.equals("session_id")) {
                set.append(set.length() == 0 ? "" : ", ").append(column).append(" = EXCLUDED.").append(column);
            }
        }
        return set.toString();
    }

    /** Open rows, oldest checkpoint first. */
    static List<String> open(Handle h, int limit) {
        return h.createQuery("SELECT session_id FROM audit_sessions WHERE is_open = TRUE ORDER BY recorded_at_ms, "
                + "session_id LIMIT :limit").bind("limit", limit).mapTo(String.class).list();
    }

    /** Closes open rows as they stand. */
    static int close(Handle h, Collection<String> ids) {
        if (ids.isEmpty()) {
            return 0;
        }
        return h.createUpdate("UPDATE audit_sessions SET is_open = FALSE WHERE is_open = TRUE AND session_id IN (<ids>)")
                .bindList("ids", List.copyOf(ids)).execute();
    }

    private static int write(Handle h, String replaces, boolean postgres, List<SessionRecord> records,
                             long recordedAtMillis, boolean open) {
        if (records.isEmpty()) {
            return 0;
        }
        // one row per session id even within a batch: the latest version (most charges) wins
        Map<String, SessionRecord> latest = new LinkedHashMap<>();
        records.forEach(r -> latest.merge(r.sessionId(), r, (a, b) -> b.chargedResponses() > a.chargedResponses() ? b : a));
        if (postgres) {
            PreparedBatch upserts = h.prepareBatch(UPSERT_POSTGRES + String.format(replaces, "a.", "EXCLUDED.charged_responses"));
            latest.values().forEach(r -> bind(upserts, r, recordedAtMillis, open).add());
            return sum(upserts.execute());
        }
        PreparedBatch updates = h.prepareBatch("UPDATE audit_sessions SET " + SET + " WHERE session_id = :id AND "
                + String.format(replaces, "", ":responses"));
        PreparedBatch inserts = h.prepareBatch(INSERT);
        for (SessionRecord r : latest.values()) {
            bind(updates, r, recordedAtMillis, open).add();
            bind(inserts, r, recordedAtMillis, open).add();
        }
        return sum(updates.execute()) + sum(inserts.execute());
    }

    private static <S extends SqlStatement<S>> S bind(S s, SessionRecord r, long recordedAtMillis, boolean open) {
        return s.bind("id", r.sessionId()).bind("client", r.clientId()).bind("node", r.nodeName())
                .bind("model", r.model()).bind("started", r.startedAtMillis()).bind("ended", r.endedAtMillis())
                .bind("duration", r.durationMillis()).bind("reason", r.endReason().label())
                .bind("textIn", r.tokens().get(TokenKind.TEXT_INPUT)).bind("audioIn", r.tokens().get(TokenKind.AUDIO_INPUT))
                .bind("cachedIn", r.tokens().get(TokenKind.CACHED_INPUT))
                .bind("textOut", r.tokens().get(TokenKind.TEXT_OUTPUT))
                .bind("audioOut", r.tokens().get(TokenKind.AUDIO_OUTPUT))
                .bind("responses", r.chargedResponses()).bind("cost", Money.usd(r.costNanoUsd()))
                .bind("version", r.priceVersion()).bind("recorded", recordedAtMillis).bind("open", open);
    }

    private static int sum(int[] counts) {
        int n = 0;
        for (int c : counts) {
            n += Math.max(0, c);
        }
        return n;
    }
}

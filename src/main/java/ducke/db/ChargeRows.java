package ducke.db;

import ducke.core.cost.ChargeRecord;
import ducke.core.cost.Money;
import ducke.core.cost.TokenCounts;
import ducke.core.cost.TokenKind;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.PreparedBatch;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Writes charge rows, one per (session, charge key) whoever writes it how often (the first write
 * stays), and keeps each session row's {@code models} as the sorted set of the models its charge
 * rows name, whichever of the two rows arrives last.
 */
final class ChargeRows {

    static final String COLUMNS = "session_id, charge_key, client_id, model, text_input_tokens, audio_input_tokens, "
            + "cached_input_tokens, text_output_tokens, audio_output_tokens, cost_usd, estimated, at_ms, price_version";

    private static final String VALUES = ":id, :key, :client, :model, :textIn, :audioIn, :cachedIn, :textOut, :audioOut, "
            + ":cost, :estimated, :at, :version, :recorded";

    private static final String INSERT = "INSERT INTO audit_charges (" + COLUMNS + ", recorded_at_ms) SELECT " + VALUES
            + " WHERE NOT EXISTS (SELECT 1 FROM audit_charges WHERE session_id = :id AND charge_key = :key)";

    /** PostgreSQL: safe also when two nodes write one charge at once. */
    private static final String INSERT_POSTGRES = "INSERT INTO audit_charges (" + COLUMNS + ", recorded_at_ms) VALUES ("
            + VALUES + ") ON CONFLICT (session_id, charge_key) DO NOTHING";

    static final int MODEL_WIDTH = 128;
    private static final int MODELS_WIDTH = 1000;

    private ChargeRows() {
    }

    /** Inserts the charges not stored yet; returns how many rows were added. */
    static int insert(Handle h, boolean postgres, List<ChargeRecord> charges, long recordedAtMillis) {
        // one row per key even within a batch (H2 answers NOT EXISTS of a repeated batch row from a cache)
        Map<List<String>, ChargeRecord> unique = new LinkedHashMap<>();
        charges.forEach(c -> unique.putIfAbsent(List.of(c.sessionId(), c.chargeKey()), c));
        PreparedBatch batch = h.prepareBatch(postgres ? INSERT_POSTGRES : INSERT);
        for (ChargeRecord c : unique.values()) {
            batch.bind("id", c.sessionId()).bind("key", c.chargeKey()).bind("client", c.clientId())
                    .bind("model", cut(c.model(), MODEL_WIDTH))
                    .bind("textIn", c.tokens().get(TokenKind.TEXT_INPUT)).bind("audioIn", c.tokens().get(TokenKind.AUDIO_INPUT))
                    .bind("cachedIn", c.tokens().get(TokenKind.CACHED_INPUT))
                    .bind("textOut", c.tokens().get(TokenKind.TEXT_OUTPUT))
                    .bind("audioOut", c.tokens().get(TokenKind.AUDIO_OUTPUT))
                    .bind("cost", Money.usd(c.costNanoUsd())).bind("estimated", c.estimated()).bind("at", c.atMillis())
                    .bind("version", c.priceVersion()).bind("recorded", recordedAtMillis).add();
        }
        int added = 0;
        for (int n : batch.execute()) {
            added += Math.max(0, n);
        }
        return added;
    }

    /** Sets {@code models} of these sessions' rows from their charge rows (rows without charges keep theirs). */
    static void refreshModels(Handle h, Collection<String> sessionIds) {
        if (sessionIds.isEmpty()) {
            return;
        }
        Map<String, Set<String>> models = new TreeMap<>();
        List<String[]> pairs = h.createQuery("SELECT DISTINCT session_id, model FROM audit_charges WHERE session_id IN (<ids>)")
                .bindList("ids", List.copyOf(new TreeSet<>(sessionIds)))
                .map((rs, ctx) -> new String[]{rs.getString("session_id"), rs.getString("model")})
                .list();
        pairs.forEach(p -> models.computeIfAbsent(p[0], id -> new TreeSet<>()).add(p[1]));
        if (models.isEmpty()) {
            return;
        }
        PreparedBatch update = h.prepareBatch("UPDATE audit_sessions SET models = :models WHERE session_id = :id "
                + "AND models <> :models");
        models.forEach((id, set) -> update.bind("id", id).bind("models", cut(String.join(",", set), MODELS_WIDTH)).add());
        update.execute();
    }

    static ChargeRecord record(ResultSet rs) throws SQLException {
        return new ChargeRecord(rs.getString("session_id"), rs.getString("charge_key"), rs.getString("client_id"),
                rs.getString("model"), TokenCounts.of(rs.getLong("text_input_tokens"), rs.getLong("audio_input_tokens"),
                rs.getLong("cached_input_tokens"), rs.getLong("text_output_tokens"), rs.getLong("audio_output_tokens")),
                Money.nanoUsd(rs.getBigDecimal("cost_usd")), rs.getBoolean("estimated"), rs.getLong("at_ms"),
                rs.getString("price_version"));
    }

    /** Sorted models from the stored text ('' is none). */
    static List<String> models(String stored) {
        return stored == null || stored.isEmpty() ? List.of() : List.of(stored.split(","));
    }

    private static String cut(String s, int width) {
        return s == null ? "" : s.length() > width ? s.substring(0, width) : s;
    }
}

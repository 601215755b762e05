package ducke.core.cost;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The operator's views of the cluster, computed from what {@link ClusterActivity} reads: the live
 * sessions with their kind, the spend per minute of a window and the clients that spent most in it.
 *
 * <p>A window of {@code n} minutes is the current minute and the {@code n - 1} before it (epoch
 * minutes, wall clock), so it lists exactly {@code n} minutes; spend counts in the minute it was
 * charged.
 */
public final class OperatorViews {

    private static final long MINUTE = 60_000L;

    /** How a session reaches the model: relayed by a node, a backend reporting usage, or a WebRTC call. */
    public enum Kind {
        RELAY, API, CALL;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A live session with its kind and whether it is paused at its cap. */
    public record LiveSession(SessionLedger ledger, Kind kind, boolean paused) {
    }

    /** One client's spend in the window, with its live sessions now. */
    public record ClientTotal(String clientId, long spendNanoUsd, int liveSessions) {
    }

    private OperatorViews() {
    }

    /**
     * The live (not ended) ledgers, oldest start first (then by id): a call when its id is in
     * {@code calls}, relayed when a node holds its connection ({@link SessionLedger#holder}), else API.
     */
    public static List<LiveSession> live(Collection<SessionLedger> ledgers, Set<String> calls, Set<String> paused) {
        List<LiveSession> live = new ArrayList<>();
        for (SessionLedger l : ledgers) {
            if (l.active()) {
                Kind kind = calls.contains(l.sessionId()) ? Kind.CALL : l.holder().isEmpty() ? Kind.API : Kind.RELAY;
                live.add(new LiveSession(l, kind, paused.contains(l.sessionId())));
            }
        }
        live.sort(Comparator.comparingLong((LiveSession s) -> s.ledger().startedAtMillis())
                .thenComparing(s -> s.ledger().sessionId()));
        return live;
    }

    /** The first epoch minute of a window of {@code windowMinutes} ending with the minute of {@code nowMillis}. */
    public static long firstMinute(long nowMillis, int windowMinutes) {
        return Math.floorDiv(nowMillis, MINUTE) - windowMinutes + 1;
    }

    /** The cluster's spend in each minute of the window, oldest first, zeros included (nano-USD). */
    public static long[] perMinute(SpendLedger spend, long nowMillis, int windowMinutes) {
        long first = firstMinute(nowMillis, windowMinutes);
        long[] amounts = new long[windowMinutes];
        for (int i = 0; i < spend.bucketCount(); i++) {
            long at = spend.minute(i) - first;
            if (at >= 0 && at < windowMinutes) {
                amounts[(int) at] = Math.addExact(amounts[(int) at], spend.amount(i));
            }
        }
        return amounts;
    }

    /** A client's spend in the window (nano-USD). */
    public static long inWindow(ClientSpend spend, long nowMillis, int windowMinutes) {
        long first = firstMinute(nowMillis, windowMinutes);
        long last = Math.floorDiv(nowMillis, MINUTE);
        long sum = 0;
        for (int i = 0; i < spend.bucketCount(); i++) {
            if (spend.minute(i) >= first && spend.minute(i) <= last) {
                sum = Math.addExact(sum, spend.amount(i));
            }
        }
        return sum;
    }

    /**
     * The clients that spent in the window, most first (ties by client id), at most {@code limit},
     * each with its count of sessions in {@code live}.
     */
    public static List<ClientTotal> topClients(Map<String, ClientSpend> clients, Collection<LiveSession> live,
                                               long nowMillis, int windowMinutes, int limit) {
        Map<String, Integer> sessions = new HashMap<>();
        live.forEach(s -> sessions.merge(s.ledger().clientId(), 1, Integer::sum));
        List<ClientTotal> totals = new ArrayList<>();
        clients.forEach((client, spend) -> {
            long sum = inWindow(spend, nowMillis, windowMinutes);
            if (sum > 0) {
                totals.add(new ClientTotal(client, sum, sessions.getOrDefault(client, 0)));
            }
        });
        totals.sort(Comparator.comparingLong(ClientTotal::spendNanoUsd).reversed().thenComparing(ClientTotal::clientId));
        return totals.size() > limit ? List.copyOf(totals.subList(0, limit)) : totals;
    }
}

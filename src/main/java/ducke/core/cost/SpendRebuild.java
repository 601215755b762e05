package ducke.core.cost;

import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The cluster's spend state rebuilt from the audit store, for the first member of a new cluster
 * (every node was stopped, and the grid with them): the rolling hour's spend by minute, each
 * client's hourly spend, the breaker window's spend and the breaker itself. Pure: the rows and the
 * time arrive as parameters.
 *
 * <p>Each charge counts once, at its own time: a charge row counts as it is; a session row (finished,
 * or the open row of a session that was live: its last checkpoint) counts only what its cost exceeds
 * the sum of the session's charge rows (a session recorded before charge rows were kept, or charges
 * whose rows had not reached the store), at the row's end (or checkpoint) time, the latest moment
 * the money can have been spent, so it stays in the windows at least as long as it would have.
 * Nothing older than the longest window ({@link CostLimits#spendRetentionMillis}) counts.
 *
 * <p>The breaker is as its last recorded change left it: open until its recorded reset time if
 * that is still ahead, else closed at that time; closed by an operator at the time of the reset
 * (spend before a closing does not count toward the breaker again, as in {@link SpendLedger}).
 */
public final class SpendRebuild {

    private static final long MINUTE = 60_000L;

    /** The writer whose row holds the rebuilt spend in the ledger ({@link ChargeId}); the same on every node. */
    public static final String WRITER = "audit-rebuild";

    /** One charge row: when, whose, how much. */
    public record ChargeRow(String sessionId, String clientId, long atMillis, long costNanoUsd) {
    }

    /**
     * One session row: its end (for an open row, its last checkpoint), its cost, and the sum of its
     * charge rows (all of them, also those older than the window).
     */
    public record SessionRow(String sessionId, String clientId, long endedAtMillis, long costNanoUsd, long chargedNanoUsd,
                             boolean open) {
    }

    /**
     * One recorded breaker change. {@code openedAtMillis}/{@code closesAtMillis} are the breaker's
     * own times when it opened (0 when not recorded: a full cooldown from {@code atMillis} is assumed).
     */
    public record BreakerEvent(long atMillis, boolean open, long openedAtMillis, long closesAtMillis, String cause,
                               long spendNanoUsd) {
    }

    /** What the audit store holds for the window: rows in time order are not required. */
    public record History(List<ChargeRow> charges, List<SessionRow> sessions, List<BreakerEvent> breakerEvents) {
        public int rows() {
            return charges.size() + sessions.size() + breakerEvents.size();
        }
    }

    /**
     * The rebuilt state: the ledger (one row, {@link #WRITER}), each client's spend, and what was
     * counted — {@code charges} charge rows and {@code sessions} session rows that added to it.
     */
    public record Result(SpendLedger ledger, Map<String, ClientSpend> clients, int charges, int sessions, long asOfMillis) {
    }

    private SpendRebuild() {
    }

    /** The first moment whose spend can still count: rows from here on are what {@link #reduce} needs. */
    public static long fromMillis(long nowMillis, CostLimits limits) {
        return Math.floorDiv(nowMillis - limits.spendRetentionMillis(), MINUTE) * MINUTE;
    }

    /** The breaker events that can still matter: an open breaker lasts a cooldown, spend a window. */
    public static long breakerFromMillis(long nowMillis, CostLimits limits) {
        return fromMillis(nowMillis, limits) - limits.breakerCooldownMillis();
    }

    public static Result reduce(History history, long nowMillis, CostLimits limits) {
        long from = fromMillis(nowMillis, limits);
        TreeMap<Long, Long> cluster = new TreeMap<>();
        Map<String, TreeMap<Long, Long>> byClient = new HashMap<>();
        int charges = 0;
        for (ChargeRow c : history.charges()) {
            if (c.costNanoUsd() > 0 && c.atMillis() >= from) {
                add(cluster, byClient, c.clientId(), Math.min(c.atMillis(), nowMillis), c.costNanoUsd());
                charges++;
            }
        }
        int sessions = 0;
        for (SessionRow s : history.sessions()) {
            long unrowed = s.costNanoUsd() - s.chargedNanoUsd();
            if (unrowed > 0 && s.endedAtMillis() >= from) {
                add(cluster, byClient, s.clientId(), Math.min(s.endedAtMillis(), nowMillis), unrowed);
                sessions++;
            }
        }
        MinuteBuckets spend = buckets(cluster);
        Map<String, SpendRow> rows = spend.count() == 0 ? Map.of() : Map.of(WRITER, new SpendRow(charges + sessions, 0, spend));
        SpendLedger ledger = new SpendLedger(rows, breaker(history.breakerEvents(), history, nowMillis, limits, from));
        Map<String, ClientSpend> clients = new HashMap<>();
        byClient.forEach((client, minutes) -> clients.put(client, new ClientSpend(buckets(minutes))));
        return new Result(ledger.normalise(nowMillis, limits), Map.copyOf(clients), charges, sessions, nowMillis);
    }

    private static void add(TreeMap<Long, Long> cluster, Map<String, TreeMap<Long, Long>> byClient, String clientId,
                            long atMillis, long nanoUsd) {
        long minute = Math.floorDiv(atMillis, MINUTE);
        cluster.merge(minute, nanoUsd, Math::addExact);
        if (clientId != null && !clientId.isEmpty()) {
            byClient.computeIfAbsent(clientId, k -> new TreeMap<>()).merge(minute, nanoUsd, Math::addExact);
        }
    }

    private static MinuteBuckets buckets(TreeMap<Long, Long> byMinute) {
        return MinuteBuckets.of(byMinute.keySet().stream().mapToLong(Long::longValue).toArray(),
                byMinute.values().stream().mapToLong(Long::longValue).toArray());
    }

    /**
     * The breaker as the last change left it. An open one keeps the closing before it (where its
     * count restarts once it closes again); a closed one restarts its count at its closing.
     */
    private static SpendLedger.Breaker breaker(List<BreakerEvent> events, History history, long nowMillis, CostLimits limits,
                                               long from) {
        List<BreakerEvent> ordered = events.stream().sorted(Comparator.comparingLong(BreakerEvent::atMillis)).toList();
        long closedAt = 0;
        SpendLedger.Breaker open = null;
        for (BreakerEvent e : ordered) {
            if (e.open()) {
                long openedAt = e.openedAtMillis() > 0 ? e.openedAtMillis() : e.atMillis();
                long closesAt = e.closesAtMillis() > 0 ? e.closesAtMillis() : openedAt + limits.breakerCooldownMillis();
                open = new SpendLedger.Breaker(true, openedAt, closesAt, e.cause(), e.spendNanoUsd(), 0, 0);
            } else {
                closedAt = e.atMillis();
                open = null;
            }
            if (open != null && open.closesAtMillis() <= nowMillis) {
                closedAt = open.closesAtMillis();
                open = null;
            }
        }
        long baseline = closedAt < from ? 0 : spentInMinuteBefore(history, closedAt, from);
        if (open == null) {
            return closedAt == 0 ? SpendLedger.Breaker.CLOSED
                    : new SpendLedger.Breaker(false, 0, 0, "", 0, closedAt, baseline);
        }
        return new SpendLedger.Breaker(true, open.openedAtMillis(), open.closesAtMillis(), open.cause(),
                open.spendAtOpenNanoUsd(), closedAt, baseline);
    }

    /** What was counted in {@code atMillis}'s minute before {@code atMillis}: the breaker's baseline at a closing. */
    private static long spentInMinuteBefore(History history, long atMillis, long from) {
        long minute = Math.floorDiv(atMillis, MINUTE);
        long sum = 0;
        for (ChargeRow c : history.charges()) {
            if (c.costNanoUsd() > 0 && c.atMillis() >= from && c.atMillis() < atMillis && Math.floorDiv(c.atMillis(), MINUTE) == minute) {
                sum = Math.addExact(sum, c.costNanoUsd());
            }
        }
        for (SessionRow s : history.sessions()) {
            long unrowed = s.costNanoUsd() - s.chargedNanoUsd();
            if (unrowed > 0 && s.endedAtMillis() >= from && s.endedAtMillis() < atMillis
                    && Math.floorDiv(s.endedAtMillis(), MINUTE) == minute) {
                sum = Math.addExact(sum, unrowed);
            }
        }
        return sum;
    }
}

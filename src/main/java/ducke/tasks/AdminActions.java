package ducke.tasks;

import ducke.core.cost.CostGuard;
import ducke.core.cost.EndReason;
import ducke.core.cost.Money;
import ducke.core.cost.SessionStore;
import ducke.core.cost.SpendLedger;
import ducke.db.AuditJournal;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The admin actions that the admin tasks and the operator API both take: one effect, one outcome
 * text, one journal entry (the task's name, its parameters, the outcome), whichever way they came.
 */
public final class AdminActions {

    public static final String END_SESSION = "end-session";
    public static final String TRIP_BREAKER = "trip-circuit-breaker";
    public static final String RESET_BREAKER = "reset-circuit-breaker";
    /** The longest reason an operator may give for tripping the breaker (the cause is {@code admin: } and it). */
    public static final int MAX_REASON_CHARS = 200;

    /** What an action did: its result and the text the journal keeps. */
    public record Outcome<T>(T value, String text) {
    }

    private final CostGuard guard;
    private final Clock clock;
    private final AuditJournal journal;

    public AdminActions(CostGuard guard, Clock clock, AuditJournal journal) {
        this.guard = guard;
        this.clock = clock;
        this.journal = journal;
    }

    /** Ends a session from any node with reason {@code admin_ended}; empty when the cluster does not know it. */
    public Optional<Outcome<SessionStore.Ended>> endSession(String id) {
        return guard.end(id, EndReason.ADMIN_ENDED, clock.millis()).map(ended -> new Outcome<>(ended, ended.endedNow()
                ? String.format("session %s ended (admin_ended) at cost %s USD", id, Money.usd(ended.ledger().costNanoUsd()).toPlainString())
                : String.format("session %s had already ended (%s)", id, ended.ledger().endReason().label())));
    }

    /** The breaker cause for an operator's reason (null or blank: none). */
    public static String cause(String reason) {
        return reason == null || reason.isBlank() ? "admin" : "admin: " + reason.strip();
    }

    /** Why {@code reason} cannot be recorded, or null when it can (null or blank: no reason, fine). */
    public static String reasonProblem(String reason) {
        if (reason == null || reason.isBlank()) {
            return null;
        }
        if (reason.strip().length() > MAX_REASON_CHARS) {
            return "reason is too long (at most " + MAX_REASON_CHARS + " characters)";
        }
        return BadTaskInput.printable(reason).equals(reason) ? null : "reason must be one line of printable text";
    }

    /** Opens the breaker on every node now; an open breaker stays as it is (no new breaker change). */
    public Outcome<SpendLedger.Snapshot> trip(String cause) {
        long now = clock.millis();
        SpendLedger.Snapshot current = guard.refreshSpend(now);
        if (current.breakerOpenAt(now)) {
            return new Outcome<>(current, String.format("circuit breaker is already open (cause: %s); nothing changed; it closes by itself at %s",
                    current.breakerCause(), Instant.ofEpochMilli(current.breakerClosesAtMillis())));
        }
        SpendLedger.Snapshot s = guard.trip(cause, now);
        return new Outcome<>(s, String.format("circuit breaker open (cause: %s); closes by itself at %s", s.breakerCause(),
                Instant.ofEpochMilli(s.breakerClosesAtMillis())));
    }

    /** Closes the breaker on every node now; a closed breaker stays as it is (no new breaker change). */
    public Outcome<SpendLedger.Snapshot> reset() {
        long now = clock.millis();
        SpendLedger.Snapshot current = guard.refreshSpend(now);
        if (!current.breakerOpenAt(now)) {
            return new Outcome<>(current, "circuit breaker is already closed; nothing changed");
        }
        return new Outcome<>(guard.resetBreaker(now), "circuit breaker closed; spend before now no longer counts toward it");
    }

    /** Journals an action taken through the operator API exactly as its task's run is journaled. */
    public void journal(String task, Map<String, List<String>> parameters, String text) {
        journal.adminAction(task, parameters(parameters), text);
    }

    /** Parameters as the journal keeps them: sorted, control characters as {@code ?}. */
    static String parameters(Map<String, List<String>> parameters) {
        return BadTaskInput.printable(new TreeMap<>(parameters).toString());
    }
}

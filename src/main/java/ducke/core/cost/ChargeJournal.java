package ducke.core.cost;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongFunction;

/**
 * Charges and ends this node accepted while its part of the cluster had no quorum, kept in order
 * until they can be applied to the grid. Bounded: when full, nothing more is accepted (the caller
 * refuses the report rather than lose it). Each entry has a sequence number, unique and
 * increasing in this process, that makes its replay idempotent ({@link ChargeId}). Thread-safe.
 */
public final class ChargeJournal {

    /** One journaled action; {@code atMillis} is when it was accepted, and when it counts. */
    public sealed interface Entry permits Usage, Charge, Spend, End {
        long seq();

        long atMillis();
    }

    /**
     * A usage report, priced when applied (the session's model may not be known here), with its
     * charge key (null: unkeyed) so that the replay counts once against whatever the cluster charged
     * under the same key meanwhile.
     */
    public record Usage(long seq, long atMillis, String sessionId, String sessionModel, String reportedModel,
                        TokenUsage usage, String chargeKey) implements Entry {

        public Usage(long seq, long atMillis, String sessionId, String sessionModel, String reportedModel, TokenUsage usage) {
            this(seq, atMillis, sessionId, sessionModel, reportedModel, usage, null);
        }
    }

    /** A charge already priced (a tool fee). */
    public record Charge(long seq, long atMillis, String sessionId, long costNanoUsd) implements Entry {
    }

    /** Spend whose session charge went through but whose cluster spend did not. */
    public record Spend(long seq, long atMillis, String clientId, long costNanoUsd) implements Entry {
    }

    /** The end of a session. */
    public record End(long seq, long atMillis, String sessionId, EndReason reason) implements Entry {
    }

    private final int capacity;
    private final Deque<Entry> entries = new ArrayDeque<>();
    /** Keyed usage entries not yet applied, by session and key. */
    private final Map<String, Usage> pendingKeys = new HashMap<>();
    private long nextSeq = 1;
    private long journaled;

    public ChargeJournal(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a journal holds at least one entry");
        }
        this.capacity = capacity;
    }

    /** Appends the entry {@code make} builds with the next sequence number; null when the journal is full. */
    public synchronized Entry append(LongFunction<Entry> make) {
        if (entries.size() >= capacity) {
            return null;
        }
        Entry e = make.apply(nextSeq);
        if (e.seq() != nextSeq) {
            throw new IllegalArgumentException("an entry must carry the sequence number it was given");
        }
        nextSeq++;
        entries.addLast(e);
        if (e instanceof Usage u && u.chargeKey() != null) {
            pendingKeys.putIfAbsent(keyOf(u.sessionId(), u.chargeKey()), u);
        }
        journaled++;
        return e;
    }

    /** The oldest entry not yet applied, or null. */
    public synchronized Entry oldest() {
        return entries.peekFirst();
    }

    /** Drops {@code e} once it has been applied; it must be the oldest. */
    public synchronized void applied(Entry e) {
        if (entries.peekFirst() != e) {
            throw new IllegalStateException("journal entries are applied in order");
        }
        entries.removeFirst();
        if (e instanceof Usage u && u.chargeKey() != null) {
            pendingKeys.remove(keyOf(u.sessionId(), u.chargeKey()), u);
        }
    }

    /** The keyed usage entry for {@code sessionId} and {@code chargeKey} still waiting here, or null. */
    public synchronized Usage pending(String sessionId, String chargeKey) {
        return pendingKeys.get(keyOf(sessionId, chargeKey));
    }

    private static String keyOf(String sessionId, String chargeKey) {
        return sessionId + "\n" + chargeKey;
    }

    public synchronized int size() {
        return entries.size();
    }

    public int capacity() {
        return capacity;
    }

    /** Entries ever accepted by this journal. */
    public synchronized long journaled() {
        return journaled;
    }
}

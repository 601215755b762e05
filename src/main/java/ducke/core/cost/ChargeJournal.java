package ducke.core.cost;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.function.LongFunction;
import java.util.function.Supplier;

/**
 * Charges and ends this node accepted while its part of the cluster had no quorum, kept in order
 * until they can be applied to the grid. Bounded: when full, nothing more is accepted (the caller
 * refuses the report rather than lose it). Each entry carries its {@link ChargeId}: the writer (the
 * process that journaled it) and a sequence number, unique and increasing per writer, that makes
 * its replay idempotent. A {@link Store} keeps the entries across a restart: an entry is written
 * there, and durable, before {@link #append} returns it; the entries of an earlier process are
 * handed to the constructor and keep their writer. Thread-safe.
 */
public final class ChargeJournal {

    /** One journaled action; {@code atMillis} is when it was accepted, and when it counts. */
    public sealed interface Entry permits Usage, Charge, Spend, End {
        /** The writer that journaled it, and its sequence number there: the id its replay applies as. */
        ChargeId id();

        long atMillis();

        default long seq() {
            return id().seq();
        }
    }

    /**
     * A usage report, priced when applied. {@code clientId} and {@code sessionModel} are what the
     * caller knew of the session (null when it knew nothing, e.g. the session API without a quorum):
     * they price and attribute the charge when the session's ledger is gone by the time it is applied.
     */
    public record Usage(ChargeId id, long atMillis, String sessionId, String clientId, String sessionModel,
                        String reportedModel, TokenUsage usage, String chargeKey) implements Entry {

        /** An unkeyed report. */
        public Usage(ChargeId id, long atMillis, String sessionId, String clientId, String sessionModel,
                     String reportedModel, TokenUsage usage) {
            this(id, atMillis, sessionId, clientId, sessionModel, reportedModel, usage, null);
        }
    }

    /** A charge already priced (a tool fee); client and model as for {@link Usage}. */
    public record Charge(ChargeId id, long atMillis, String sessionId, String clientId, String sessionModel,
                         long costNanoUsd) implements Entry {
    }

    /** Spend whose session charge went through but whose cluster spend did not. */
    public record Spend(ChargeId id, long atMillis, String clientId, long costNanoUsd) implements Entry {
    }

    /** The end of a session. */
    public record End(ChargeId id, long atMillis, String sessionId, EndReason reason) implements Entry {
    }

    /**
     * Where entries outlive the process (a file on local disk). Called under the journal's lock,
     * except {@link #sync}, so writes and marks reach it in the journal's order.
     */
    public interface Store {

        /** Keeps nothing: entries live in memory only. */
        Store NONE = new Store() {
            @Override
            public long write(Entry e) {
                return 0;
            }

            @Override
            public void sync(long ticket) {
            }

            @Override
            public void applied(Entry e, int left, Supplier<List<Entry>> waiting) {
            }
        };

        /** Writes {@code e} after every entry written before; it is durable once {@link #sync} of the ticket returned. */
        long write(Entry e) throws IOException;

        /** Returns once everything written up to {@code ticket} is durable; may be called from any thread. */
        void sync(long ticket) throws IOException;

        /**
         * {@code e}, the oldest entry, was applied: it need not be applied again after a restart (a repeat
         * would change nothing, so this need not be durable at once). {@code left}: how many entries still
         * wait; {@code waiting}: those entries, oldest first, for a store that rewrites itself.
         */
        void applied(Entry e, int left, Supplier<List<Entry>> waiting);
    }

    /**
     * Room for one entry, taken before a charge starts that may have to journal part of itself half
     * way: with the room taken, the journal cannot turn out to be full after the first part was
     * applied. Give it back with {@link #release} when it was not used.
     */
    public static final class Room {
        private boolean open = true;

        private Room() {
        }
    }

    private final int capacity;
    private final Store store;
    private final Deque<Entry> entries = new ArrayDeque<>();
    /** Keyed usage entries not yet applied, by session and key: a repeat of one is not journaled twice. */
    private final Map<String, Usage> pendingKeys = new HashMap<>();
    private final int restored;
    private final List<Entry> restoredEntries;
    private int reserved;
    private long nextSeq = 1;
    private long journaled;
    private long unsynced;

    /** A journal in memory only. */
    public ChargeJournal(int capacity) {
        this(capacity, List.of(), Store.NONE);
    }

    /**
     * @param restored entries an earlier process journaled and did not apply, oldest first; they keep
     *                 their writer, and are kept even beyond {@code capacity} (new ones wait for room)
     * @param store    where new entries are written before they are accepted
     */
    public ChargeJournal(int capacity, List<Entry> restored, Store store) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a journal holds at least one entry");
        }
        this.capacity = capacity;
        this.store = store;
        this.entries.addAll(restored);
        restored.forEach(this::rememberKey);
        this.restored = restored.size();
        this.restoredEntries = List.copyOf(restored);
    }

    /**
     * Appends the entry {@code make} builds with the next sequence number, once the store has it
     * durably; null when the journal is full or the store cannot write it (nothing was kept).
     */
    public Entry append(LongFunction<Entry> make) {
        return append(null, make);
    }

    /**
     * The same in {@code room} taken before ({@link #reserve}); never null: if the store cannot write
     * the entry, it is kept in memory all the same (the part before it was applied already).
     */
    public Entry append(Room room, LongFunction<Entry> make) {
        Entry e;
        long ticket;
        synchronized (this) {
            boolean inRoom = room != null && room.open;
            if (!inRoom && entries.size() + reserved >= capacity) {
                return null;
            }
            e = make.apply(nextSeq);
            if (e.seq() != nextSeq) {
                throw new IllegalArgumentException("an entry must carry the sequence number it was given");
            }
            try {
                ticket = store.write(e);
            } catch (IOException | RuntimeException failed) {
                if (!inRoom) {
                    return null;
                }
                ticket = -1;
                unsynced++;
            }
            if (inRoom) {
                room.open = false;
                reserved--;
            }
            nextSeq++;
            entries.addLast(e);
            rememberKey(e);
            journaled++;
        }
        if (ticket >= 0) {
            try {
                store.sync(ticket);
            } catch (IOException | RuntimeException failed) {
                // written but perhaps not durable: still kept in memory and applied, as before there was a store
                synchronized (this) {
                    unsynced++;
                }
            }
        }
        return e;
    }

    /** Takes room for one entry; null when the journal is full. */
    public synchronized Room reserve() {
        if (entries.size() + reserved >= capacity) {
            return null;
        }
        reserved++;
        return new Room();
    }

    /** Gives back room that was not used; using or releasing it twice changes nothing. */
    public synchronized void release(Room room) {
        if (room != null && room.open) {
            room.open = false;
            reserved--;
        }
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
        store.applied(e, entries.size(), () -> new ArrayList<>(entries));
    }

    /** The keyed usage entry for {@code sessionId} and {@code chargeKey} still waiting here, or null. */
    public synchronized Usage pending(String sessionId, String chargeKey) {
        return pendingKeys.get(keyOf(sessionId, chargeKey));
    }

    private void rememberKey(Entry e) {
        if (e instanceof Usage u && u.chargeKey() != null) {
            pendingKeys.putIfAbsent(keyOf(u.sessionId(), u.chargeKey()), u);
        }
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

    /** Entries ever accepted by this journal (those of an earlier process not counted). */
    public synchronized long journaled() {
        return journaled;
    }

    /** The entries an earlier process left to apply, as found at start (some may have been applied since). */
    public List<Entry> restoredEntries() {
        return restoredEntries;
    }

    /** Entries an earlier process left to apply, as found at start. */
    public int restored() {
        return restored;
    }

    /** Entries accepted although the store failed to write or sync them: kept in memory only. */
    public synchronized long unsynced() {
        return unsynced;
    }
}

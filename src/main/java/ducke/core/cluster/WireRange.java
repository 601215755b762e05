package ducke.core.cluster;

import java.util.Collection;
import java.util.OptionalInt;

/**
 * The wire versions one node can handle: it reads every version from {@code oldest} to {@code newest}
 * and can write each of them. A cluster writes the newest version every member reads
 * ({@link #common}); a node joins only a cluster with which it shares one. A release that changes a
 * stored format adds a version and keeps reading (and writing) the one before, so a node of the next
 * release joins a cluster of the previous one, writes the older form while an older member is
 * present, and moves on once the last older member has left.
 */
public record WireRange(int oldest, int newest) {

    public WireRange {
        if (oldest < 1 || newest < oldest || newest > 127) {
            throw new IllegalArgumentException("not a wire range: " + oldest + "-" + newest);
        }
    }

    /** {@code oldest-newest}, as a member announces it. */
    public String encode() {
        return oldest + "-" + newest;
    }

    /**
     * A member's announced range. A member that announces none predates wire versions: its values
     * carry no version byte, which no versioned node can read; it decodes to null.
     */
    public static WireRange decode(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        int dash = text.indexOf('-');
        try {
            return new WireRange(Integer.parseInt(text.substring(0, dash).trim()),
                    Integer.parseInt(text.substring(dash + 1).trim()));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a wire range: '" + text + "'", e);
        }
    }

    public boolean reads(int version) {
        return version >= oldest && version <= newest;
    }

    /** The newest version every range reads and writes, or empty when they share none. */
    public static OptionalInt common(Collection<WireRange> ranges) {
        int low = Integer.MIN_VALUE;
        int high = Integer.MAX_VALUE;
        for (WireRange r : ranges) {
            low = Math.max(low, r.oldest);
            high = Math.min(high, r.newest);
        }
        return ranges.isEmpty() || low > high ? OptionalInt.empty() : OptionalInt.of(high);
    }
}

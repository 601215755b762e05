package ducke.core.cost;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The reservations a session of the session API holds and has not settled yet: each the worst case
 * of one response the backend is about to ask the model for, until it is settled by the response's
 * usage report, released, or charged as an estimate when it expires. Immutable; held in the grid as
 * its text form ({@link #encode()}), so that a compare-and-set on it needs no class of ours on the
 * members (a member of an older release can hold its partition).
 *
 * @param open in the order they were taken
 */
public record OpenReservations(List<Open> open) {

    /** The text form's first line. */
    static final String VERSION = "v1";
    private static final Pattern ID = Pattern.compile("res_[0-9a-f]{24}");

    /** One reservation: its id, what it holds (nano-USD) and when it lapses (epoch ms). */
    public record Open(String id, long nanoUsd, long expiresAtMillis) {
        public Open {
            if (!wellFormed(id) || nanoUsd <= 0 || expiresAtMillis <= 0) {
                throw new IllegalArgumentException("a reservation has an id res_<24 hex>, a positive amount and an expiry");
            }
        }

        public boolean expired(long nowMillis) {
            return nowMillis >= expiresAtMillis;
        }
    }

    public static final OpenReservations NONE = new OpenReservations(List.of());

    public OpenReservations {
        open = List.copyOf(open);
    }

    /** Whether {@code id} has the shape of a reservation id ({@code res_} and 24 hex digits). */
    public static boolean wellFormed(String id) {
        return id != null && ID.matcher(id).matches();
    }

    public boolean isEmpty() {
        return open.isEmpty();
    }

    public Optional<Open> find(String id) {
        return open.stream().filter(o -> o.id().equals(id)).findFirst();
    }

    /**
     * What the session's open reservations hold against its own cap: every one, expired or not (an
     * expired one is charged its amount when it is swept, unless its report comes first).
     */
    public long heldNanoUsd() {
        long sum = 0;
        for (Open o : open) {
            sum = Math.addExact(sum, o.nanoUsd());
        }
        return sum;
    }

    public List<Open> expired(long nowMillis) {
        return open.stream().filter(o -> o.expired(nowMillis)).toList();
    }

    public OpenReservations with(Open o) {
        if (find(o.id()).isPresent()) {
            throw new IllegalArgumentException("reservation " + o.id() + " is held already");
        }
        List<Open> next = new ArrayList<>(open);
        next.add(o);
        return new OpenReservations(next);
    }

    public OpenReservations without(String id) {
        return new OpenReservations(open.stream().filter(o -> !o.id().equals(id)).toList());
    }

    /** {@code v1}, then one line per reservation: {@code <id> <nano-USD> <expires at ms>}. */
    public String encode() {
        StringBuilder b = new StringBuilder(VERSION);
        for (Open o : open) {
            b.append('\n').append(o.id()).append(' ').append(o.nanoUsd()).append(' ').append(o.expiresAtMillis());
        }
        return b.toString();
    }

    /** @throws IllegalArgumentException for any other text (a newer release's form included) */
    public static OpenReservations decode(String text) {
        String[] lines = text.split("\n", -1);
        if (!lines[0].equals(VERSION)) {
            throw new IllegalArgumentException("not a v1 list of reservations: " + lines[0]);
        }
        List<Open> open = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            String[] f = lines[i].split(" ", -1);
            if (f.length != 3) {
                throw new IllegalArgumentException("a reservation line has three fields: " + lines[i]);
            }
            open.add(new Open(f[0], Long.parseLong(f[1]), Long.parseLong(f[2])));
        }
        return new OpenReservations(open);
    }
}

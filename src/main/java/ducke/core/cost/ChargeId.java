package ducke.core.cost;

/**
 * Who applies a charge to a value shared in the grid, so that two diverged copies of the value can
 * be merged without losing or doubling a charge: each writer's contribution is kept apart and only
 * ever grows. {@code seq > 0} marks a replay of a journaled charge: a writer replays its journal in
 * order, so a sequence number it has already applied is a repeat and changes nothing.
 *
 * @param writer one process of one node (a new id per start), never shared by two processes
 * @param seq    0 for a live charge; the journal's sequence number for a replay
 */
public record ChargeId(String writer, long seq) {

    public ChargeId {
        if (writer == null) {
            throw new IllegalArgumentException("a charge needs a writer");
        }
        if (seq < 0) {
            throw new IllegalArgumentException("sequence numbers are positive");
        }
    }

    public static ChargeId live(String writer) {
        return new ChargeId(writer, 0);
    }

    public boolean replay() {
        return seq > 0;
    }
}

package ducke.core.cost;

/**
 * Where charge records wait for the audit store. Thread-safe; called on request threads, so it
 * must be quick and never throw.
 */
public interface ChargeBuffer {

    /** Keeps {@code record} until the audit store has taken it. */
    void add(ChargeRecord record);
}

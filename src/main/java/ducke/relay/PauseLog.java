package ducke.relay;

/** Where the pauses of an ended relayed session go (its audit row). Must not block. */
@FunctionalInterface
public interface PauseLog {

    void ended(String sessionId, int pauses, long pausedMillis);

    PauseLog NONE = (id, n, ms) -> { };
}

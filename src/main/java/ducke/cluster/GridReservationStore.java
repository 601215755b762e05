package ducke.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import ducke.core.cost.OpenReservations;
import ducke.core.cost.ReservationStore;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The session API's open reservations ({@link OpenReservations}), one entry per session, its value
 * the text form: the compare-and-set is {@code putIfAbsent}, {@code replace(key, old, new)} and
 * {@code remove(key, old)} on strings, which every member can hold whatever its release. Those calls
 * block (Hazelcast has no asynchronous form of them): they run on the node's own threads.
 */
final class GridReservationStore implements ReservationStore {

    static final String MAP = "ducke-session-reservations";

    private final IMap<String, String> map;
    private final GridCalls calls;

    GridReservationStore(HazelcastInstance hz, GridCalls calls) {
        this.map = hz.getMap(MAP);
        this.calls = calls;
    }

    @Override
    public OpenReservations get(String sessionId) {
        String text = calls.await("reading a session's reservations", () -> map.getAsync(sessionId));
        return text == null ? OpenReservations.NONE : OpenReservations.decode(text);
    }

    @Override
    public boolean swap(String sessionId, OpenReservations expected, OpenReservations next) {
        if (expected.isEmpty() && next.isEmpty()) {
            return get(sessionId).isEmpty();
        }
        if (expected.isEmpty()) {
            return calls.awaitBlocking("taking a reservation",
                    () -> map.putIfAbsent(sessionId, next.encode()) == null);
        }
        if (next.isEmpty()) {
            return calls.awaitBlocking("settling a session's last reservation", () -> map.remove(sessionId, expected.encode()));
        }
        return calls.awaitBlocking("changing a session's reservations",
                () -> map.replace(sessionId, expected.encode(), next.encode()));
    }

    @Override
    public Map<String, OpenReservations> ownedHere() {
        Set<String> keys = map.localKeySet();
        if (keys.isEmpty()) {
            return Map.of();
        }
        Map<String, String> texts = calls.awaitBlocking("reading this node's reservations", () -> map.getAll(keys));
        Map<String, OpenReservations> owned = new HashMap<>();
        texts.forEach((session, text) -> owned.put(session, OpenReservations.decode(text)));
        return owned;
    }
}

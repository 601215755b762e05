package ducke.core.cost;

import java.util.Map;

/**
 * Where the session API's open reservations live, one {@link OpenReservations} per session, shared
 * by every node: a reservation taken on one node is settled, released or charged at its expiry by
 * any other, and outlives the node that took it.
 */
public interface ReservationStore {

    /** The session's open reservations; {@link OpenReservations#NONE} when it holds none. */
    OpenReservations get(String sessionId);

    /**
     * Replaces {@code expected} (as read by {@link #get}) with {@code next} if nobody changed it
     * meanwhile; an empty {@code next} removes the entry.
     *
     * @return false when it had changed: read again and retry
     */
    boolean swap(String sessionId, OpenReservations expected, OpenReservations next);

    /** The entries this node owns, read in one call: the ones its sweep charges at expiry. */
    Map<String, OpenReservations> ownedHere();
}

package ducke.core.cost;

import ducke.core.cluster.ClusterUnavailableException;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Per-response reservations for the session API: a backend about to ask the model for a response
 * reserves that response's worst case (its input tokens at the model's dearest input rate, its
 * output clamp at the dearest output rate) against the session's own cap, the client's rolling hour,
 * day and month, and the breaker's window, before it asks; the response's usage report settles the
 * reservation to what was really used. A reservation whose report never comes is charged its amount,
 * marked estimated, when it expires, by whichever node owns it then; the report and the estimate
 * share one charge key ({@code report:reservation:<id>}), so a late report after the estimate, or a
 * report sent twice, is charged once.
 *
 * <p>The session's own cap is held by the session's list of open reservations in the grid
 * ({@link ReservationStore}), changed by compare-and-set: two reservations for one session on two
 * nodes cannot both take the same room. The windows that span sessions are held by the guard's
 * reservations ({@link CostGuard#reserve}), which lapse at the same expiry.
 */
public final class ApiReservations {

    /** Charge key prefix: a usage report's key ({@link ChargeKey#REPORT_PREFIX}), apart from a backend's own keys. */
    public static final String KEY_PREFIX = ChargeKey.REPORT_PREFIX + "reservation:";
    /** Compare-and-set attempts before a change of one session's list gives up (other nodes keep changing it). */
    static final int SWAP_ATTEMPTS = 64;

    /** Why a reservation was refused. */
    public enum Refusal {
        SESSION_BUDGET, CLIENT_BUDGET, CIRCUIT_BREAKER,
        /** A relayed session or a call: the relay reserves its responses itself, and would never settle these. */
        NOT_API
    }

    /**
     * A reservation taken: what it holds and until when.
     *
     * @param ledger the session as it was when the reservation was taken
     */
    public record Reserved(OpenReservations.Open open, long inputTokens, long maxOutputTokens, SessionLedger ledger) {
    }

    /**
     * A reservation refused: nothing is held.
     *
     * @param heldNanoUsd what the session's other open reservations hold (for {@link Refusal#SESSION_BUDGET})
     */
    public record Refused(Refusal refusal, long askedNanoUsd, long heldNanoUsd, SessionLedger ledger) {
    }

    /** A reservation, or why not (exactly one is set); empty when the session is unknown. */
    public record Outcome(Reserved reserved, Refused refused) {
    }

    private final CostGuard guard;
    private final ReservationStore store;
    private final CostObserver observer;
    private final SecureRandom random = new SecureRandom();

    public ApiReservations(CostGuard guard, ReservationStore store, CostObserver observer) {
        this.guard = guard;
        this.store = store;
        this.observer = observer;
    }

    /** The charge key of the reservation {@code id}: its settling report's, and its estimate's. */
    public static String chargeKey(String id) {
        return KEY_PREFIX + id;
    }

    /** The worst case of a response of the session's model: input at the dearest input rate, output at the dearest output rate. */
    public long worstCaseNanoUsd(String model, long inputTokens, long maxOutputTokens) {
        ModelPrice p = guard.prices().match(model).price();
        return Math.addExact(ResponseBudget.cost(inputTokens, p.maxInputRate()), ResponseBudget.cost(maxOutputTokens, p.maxOutputRate()));
    }

    /**
     * Reserves the worst case of one response for {@code ttlMillis}. Empty when the session is unknown;
     * an ended session is the caller's to refuse (the ledger comes back in neither part, then).
     *
     * @throws ClusterUnavailableException when the grid does not answer: nothing is listed (a hold taken may stay
     *                                     until it lapses at the expiry, if giving it back failed too)
     */
    public Optional<Outcome> reserve(String sessionId, long inputTokens, long maxOutputTokens, long ttlMillis, long nowMillis) {
        Optional<SessionLedger> found = guard.get(sessionId);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        SessionLedger ledger = found.get();
        if (!ledger.active()) {
            return Optional.of(new Outcome(null, new Refused(null, 0, 0, ledger)));
        }
        if (!ledger.holder().isEmpty()) {
            return Optional.of(new Outcome(null, new Refused(Refusal.NOT_API, 0, 0, ledger)));
        }
        long worst = worstCaseNanoUsd(ledger.model(), inputTokens, maxOutputTokens);
        OpenReservations.Open open = new OpenReservations.Open(newId(), Math.max(1, worst), nowMillis + ttlMillis);
        // the windows that span sessions first: what a failure past this point leaves behind is a hold that lapses
        // at the expiry, never a listed reservation that would be charged for a response nobody asked for
        CostGuard.Grant grant = guard.reserve(ledger.clientId(), open.id(), open.nanoUsd(), open.nanoUsd(),
                open.expiresAtMillis(), nowMillis);
        if (!grant.taken()) {
            observer.reservation("refused");
            return Optional.of(new Outcome(null, new Refused(grant.hold() == CostGuard.Hold.CIRCUIT_BREAKER
                    ? Refusal.CIRCUIT_BREAKER : Refusal.CLIENT_BUDGET, open.nanoUsd(), 0, ledger)));
        }
        Outcome outcome;
        try {
            outcome = list(sessionId, open, ledger);
        } catch (RuntimeException e) {
            releaseQuietly(ledger.clientId(), open.id(), nowMillis);
            throw e;
        }
        if (outcome.refused() != null) {
            releaseQuietly(ledger.clientId(), open.id(), nowMillis);
            observer.reservation("refused");
            return Optional.of(outcome);
        }
        observer.reservation("granted");
        return Optional.of(new Outcome(new Reserved(open, inputTokens, maxOutputTokens, outcome.reserved().ledger()), null));
    }

    /** Adds {@code open} to the session's list if its cap holds it with the cost so far and the others listed. */
    private Outcome list(String sessionId, OpenReservations.Open open, SessionLedger first) {
        SessionLedger ledger = first;
        for (int attempt = 0; attempt < SWAP_ATTEMPTS; attempt++) {
            // the list first, then the ledger: a report that settled one of the listed reservations charged the ledger
            // before it left the list, so a list without it is read with a ledger that has its charge
            OpenReservations held = store.get(sessionId);
            ledger = guard.get(sessionId).orElse(ledger);
            if (!ledger.active()) {
                return new Outcome(null, new Refused(null, 0, 0, ledger));
            }
            long room = ledger.maxCostNanoUsd() - ledger.costNanoUsd() - held.heldNanoUsd();
            // with cost protection off (COST_PROTECTION_ENABLED=false) sessions are metered, never capped
            if (guard.limits().enforced() && open.nanoUsd() > room) {
                observer.limitReached("session_cost");
                return new Outcome(null, new Refused(Refusal.SESSION_BUDGET, open.nanoUsd(), held.heldNanoUsd(), ledger));
            }
            if (store.swap(sessionId, held, held.with(open))) {
                return new Outcome(new Reserved(open, 0, 0, ledger), null);
            }
        }
        throw busy(sessionId);
    }

    private void releaseQuietly(String clientId, String id, long nowMillis) {
        try {
            guard.release(clientId, id, nowMillis);
        } catch (RuntimeException e) {
            // it lapses at its expiry
        }
    }

    /**
     * Charges a usage report that settles reservation {@code id}: the reported usage, keyed by the
     * reservation, settling its holds in the same steps; the reservation leaves the session's list.
     * A reservation no longer listed (settled, released, charged at expiry) is charged by its key all
     * the same: a repeat of the settling report charges nothing ({@link CostGuard.Usage#repeated()}),
     * a report after the estimate is told apart ({@link CostGuard.Usage#conflicting()}) and charges
     * nothing, and a report for a released reservation is charged (what the model billed is charged).
     *
     * @return empty when the session is unknown
     */
    public Optional<CostGuard.Usage> settle(String sessionId, String id, String reportedModel, TokenUsage usage, long nowMillis) {
        if (!guard.health().quorum()) {
            // journaled by its key; the reservation stays listed (and held until it lapses): if it expires before the
            // partition heals, its estimate is charged under the same key and the journaled report adds nothing
            return Optional.of(guard.report(sessionId, reportedModel, usage, chargeKey(id), nowMillis));
        }
        Optional<SessionLedger> ledger = guard.get(sessionId);
        if (ledger.isEmpty()) {
            return Optional.empty();
        }
        OpenReservations held = store.get(sessionId);
        boolean listed = held.find(id).isPresent();
        CostGuard.Usage u = guard.settle(ledger.get(), reportedModel, usage, chargeKey(id), listed ? id : null, nowMillis);
        if (listed && !u.journaled()) {
            forget(sessionId, id, held);
            if (u.applied()) {
                observer.reservation("settled");
            }
        }
        return Optional.of(u);
    }

    /**
     * Gives a reservation back uncharged (the backend did not ask for the response after all).
     *
     * @return false when the session does not list it (unknown, settled, charged or released before)
     */
    public boolean release(String sessionId, String id, long nowMillis) {
        Optional<SessionLedger> ledger = guard.get(sessionId);
        OpenReservations held = ledger.isEmpty() ? OpenReservations.NONE : store.get(sessionId);
        if (held.find(id).isEmpty()) {
            return false;
        }
        guard.release(ledger.get().clientId(), id, nowMillis);
        boolean released = forget(sessionId, id, held) != null;
        if (released) {
            observer.reservation("released");
        }
        return released;
    }

    /**
     * What a sweep did: reservations charged their amount; reservations dropped uncharged because their
     * session's ledger was gone; sessions whose sweep failed (the next pass tries them again), with the
     * last failure for the log.
     */
    public record Swept(int charged, int dropped, int failed, String lastFailure) {
        static final Swept NONE = new Swept(0, 0, 0, null);
    }

    /**
     * Charges every expired reservation of the sessions this node owns its amount, marked estimated,
     * and takes it off the list. Without a quorum nothing is swept (the next pass does it).
     */
    public Swept sweep(long nowMillis) {
        return sweep(nowMillis, false);
    }

    /**
     * Charges every open reservation this node owns its amount, estimated, expired or not: for the
     * last member of a cluster that stops, after which no report can reach the session (its ledger
     * goes with the grid) and the reservation would otherwise never be charged.
     */
    public Swept chargeAllOpen(long nowMillis) {
        return sweep(nowMillis, true);
    }

    private Swept sweep(long nowMillis, boolean all) {
        if (!guard.health().quorum()) {
            return Swept.NONE;
        }
        int[] counts = new int[3];
        String lastFailure = null;
        for (var owned : store.ownedHere().entrySet()) {
            if (!all && owned.getValue().expired(nowMillis).isEmpty()) {
                continue;
            }
            try {
                sweep(owned.getKey(), owned.getValue(), nowMillis, all, counts);
            } catch (RuntimeException e) {
                counts[2]++;
                lastFailure = "session " + owned.getKey() + ": " + e;
            }
        }
        return new Swept(counts[0], counts[1], counts[2], lastFailure);
    }

    /** Adds to {@code counts} [charged, dropped]; {@code held} is the session's list as the node's read found it. */
    private void sweep(String sessionId, OpenReservations held, long nowMillis, boolean all, int[] counts) {
        // the ledger names the session's client and model; the charges go through the grid, whatever this copy says
        Optional<SessionLedger> ledger = guard.get(sessionId);
        List<OpenReservations.Open> due = all ? held.open() : held.expired(nowMillis);
        for (OpenReservations.Open o : due) {
            if (ledger.isEmpty()) {
                // the ledger outlived its retention (longer than any reservation may last): nothing left to charge to
                held = Objects.requireNonNullElse(forget(sessionId, o.id(), held), held);
                counts[1]++;
                continue;
            }
            CostGuard.Usage u = guard.settleEstimate(ledger.get(), chargeKey(o.id()), o.nanoUsd(), o.id(), nowMillis);
            if (u.journaled()) {
                return;
            }
            held = Objects.requireNonNullElse(forget(sessionId, o.id(), held), held);
            if (u.applied()) {
                counts[0]++;
                observer.reservation("expired");
            }
        }
    }

    /**
     * Takes {@code id} off the session's list, starting from {@code held} as last read (read again only when
     * it changed meanwhile): the list after, or null when {@code id} was not on it.
     */
    private OpenReservations forget(String sessionId, String id, OpenReservations held) {
        for (int attempt = 0; attempt < SWAP_ATTEMPTS; attempt++) {
            if (held.find(id).isEmpty()) {
                return null;
            }
            OpenReservations next = held.without(id);
            if (store.swap(sessionId, held, next)) {
                return next;
            }
            held = store.get(sessionId);
        }
        throw busy(sessionId);
    }

    private static ClusterUnavailableException busy(String sessionId) {
        return new ClusterUnavailableException("The reservations of session " + sessionId + " kept changing under "
                + SWAP_ATTEMPTS + " attempts to change them", 1, null);
    }

    private String newId() {
        byte[] b = new byte[12];
        random.nextBytes(b);
        return "res_" + HexFormat.of().formatHex(b);
    }
}

package ducke.resources;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.api.LiveSessionView;
import ducke.api.SessionCapRequest;
import ducke.api.SessionView;
import ducke.core.cost.CostGuard;
import ducke.core.cost.Money;
import ducke.core.cost.SessionLedger;
import ducke.core.cost.SessionPauses;
import ducke.errors.ApiException;
import ducke.errors.CostExceptions;
import ducke.errors.ErrorWords;
import ducke.relay.RelayRegistry;

import java.math.BigDecimal;
import java.util.Map;

/**
 * {@code PATCH /v1/sessions/{id}}: sets a live session's cap in the grid, atomically, whichever
 * node holds it; the node holding a realtime session meters against the new cap and resumes the
 * session if it was paused at the old one. The new cap must be more than the session's cost so far.
 */
final class SessionCapChange {

    /** The most a cap may be: what the configuration's money fields allow (9 integer digits). */
    static final BigDecimal MAX_USD = new BigDecimal("999999999.999999999");
    private static final String TAKES = "a session change takes only max_cost_usd";

    private final CostGuard guard;
    private final RelayRegistry relayed;
    private final SessionPauses pauses;

    SessionCapChange(CostGuard guard, RelayRegistry relayed, SessionPauses pauses) {
        this.guard = guard;
        this.relayed = relayed;
        this.pauses = pauses;
    }

    LiveSessionView apply(String id, SessionCapRequest body) {
        if (body == null) {
            throw ApiException.invalid(422, "the body must be a JSON object with max_cost_usd");
        }
        KnownFields.require(body.unknownFields(), TAKES);
        long cap = capOf(body.maxCostUsd());
        SessionLedger before = guard.get(id).orElseThrow(() -> CostExceptions.notFound(id));
        if (!before.active()) {
            throw CostExceptions.ended(id, before.endReason().label());
        }
        SessionLedger after = guard.setCap(id, cap).orElseThrow(() -> CostExceptions.notFound(id));
        if (!after.active()) {
            throw CostExceptions.ended(id, after.endReason().label());
        }
        if (after.maxCostNanoUsd() != cap) {
            // the grid refuses a cap at or under the cost so far (which may have grown since it was read)
            throw new ApiException(422, ErrorWords.INVALID_REQUEST,
                    "max_cost_usd must be more than the session's cost so far (" + Money.usd(after.costNanoUsd()).toPlainString() + ")",
                    Map.of("cost_usd", Money.usd(after.costNanoUsd())), Map.of());
        }
        return new LiveSessionView(SessionView.of(after), paused(after, true));
    }

    /** {@code GET}: the session and, while it is live, whether it is paused. */
    LiveSessionView view(SessionLedger ledger) {
        return new LiveSessionView(SessionView.of(ledger), ledger.active() ? paused(ledger, false) : null);
    }

    /**
     * Whether the live session is paused now: asked of this node when it holds it (after its cap changed,
     * {@code capChanged}: resumed here first if its next response fits), else of the grid; a session of the
     * session API never is.
     */
    private boolean paused(SessionLedger ledger, boolean capChanged) {
        if (ledger.holder().isEmpty()) {
            return false;
        }
        Boolean here = relayed.pausedHere(ledger.sessionId());
        if (here == null) {
            return pauses.paused(ledger.sessionId());
        }
        return capChanged ? relayed.capChanged(ledger) : here;
    }

    /** A cap as exact nano-USD: a positive number or decimal string, at most 9 places. */
    static long capOf(JsonNode requested) {
        String rule = "max_cost_usd must be an amount more than 0 (a number or a decimal string, at most 9 places)";
        BigDecimal usd = KnownFields.decimal(requested, rule);
        if (usd.signum() <= 0 || usd.compareTo(MAX_USD) > 0) {
            throw ApiException.invalid(422, rule);
        }
        try {
            return Money.nanoUsd(usd);
        } catch (ArithmeticException | IllegalArgumentException e) {
            throw ApiException.invalid(422, rule);
        }
    }
}

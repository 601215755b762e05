package ducke.relay;

import com.fasterxml.jackson.databind.node.ObjectNode;
import ducke.core.cost.EndReason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * The spoken goodbye of one session ({@code RELAY_GOODBYE_INSTRUCTIONS}): when the session ends for
 * its cost cap ({@code budget_exceeded}, {@code client_budget_exceeded}), its duration cap
 * ({@code session_timeout}) or a stopping node ({@code node_shutdown}), the guard asks the model
 * for one short response with the configured instructions, no tools and an output limit within
 * what was set aside for it out of the session's cap ({@link Metering#setAsideGoodbye}), before the
 * session closes. It is reserved in the grid and charged like any response; it ends with its
 * {@code response.done}, or after {@code finalUsageWait}, when it is cancelled and charged its
 * reservation (estimated). Thread-safe.
 */
final class Goodbye {

    private static final Logger LOG = LoggerFactory.getLogger(Goodbye.class);

    /** The event id of the guard's goodbye {@code response.create}. */
    static final String EVENT_ID = "event_gw_goodbye";

    /** The goodbye's settings; instructions empty (or blank): none. */
    record Settings(String instructions, long reserveTokens) {
        boolean on() {
            return instructions != null && !instructions.isBlank();
        }

        long instructionBytes() {
            return on() ? instructions.getBytes(StandardCharsets.UTF_8).length : 0;
        }
    }

    /** How a goodbye went, as {@code relay_goodbyes_total} counts it. */
    enum Outcome {
        DONE, CANCELLED, SKIPPED;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final RelayContext ctx;
    private final Metering metering;
    private final String sessionId;
    /** The goodbye was asked for and is not over. */
    private volatile boolean running;
    /** The upstream announced it (its response id). */
    private volatile String responseId;
    /** The client left while it was spoken: it was cancelled. */
    private volatile boolean cut;

    Goodbye(RelayContext ctx, Metering metering, String sessionId) {
        this.ctx = ctx;
        this.metering = metering;
        this.sessionId = sessionId;
        if (ctx.goodbye().on()) {
            metering.setAsideGoodbye(ctx.goodbye().reserveTokens(), ctx.goodbye().instructionBytes());
        }
    }

    /** The end reasons a goodbye is spoken for: the caps and a stopping node. */
    static boolean spokenFor(EndReason reason) {
        return switch (reason) {
            case BUDGET_EXCEEDED, CLIENT_BUDGET_EXCEEDED, SESSION_TIMEOUT, NODE_SHUTDOWN -> true;
            default -> false;
        };
    }

    /** Whether the goodbye is being spoken: a client's {@code response.create} is refused meanwhile. */
    boolean running() {
        return running;
    }

    /**
     * The session ends for {@code reason}, nothing of it in flight any more: speaks the goodbye on
     * {@code link} when it is configured and due, then runs {@code then} (once, on whichever thread
     * the goodbye ended on, or this one). Never throws.
     */
    void thenEnd(EndReason reason, UpstreamLink link, Runnable then) {
        if (!ctx.goodbye().on() || !spokenFor(reason) || link == null || !link.open()) {
            then.run();
            return;
        }
        long limit;
        try {
            long now = ctx.clock().millis();
            // the standing reservation is not needed any more: the goodbye takes its own
            metering.releaseHolds(now);
            limit = metering.goodbyeLimit();
            if (limit < 1 || !metering.startGoodbye(EVENT_ID, limit, now)) {
                LOG.info("Session {}: no goodbye ({}; {})", sessionId, reason.label(),
                        limit < 1 ? "the session's budget cannot pay one" : "its reservation was refused");
                over(Outcome.SKIPPED, then);
                return;
            }
        } catch (RuntimeException e) {
            LOG.warn("Session {}: no goodbye ({})", sessionId, e.toString());
            over(Outcome.SKIPPED, then);
            return;
        }
        running = true;
        LOG.info("Session {} ends ({}): the model says goodbye in at most {} output tokens", sessionId, reason.label(), limit);
        link.text(event(limit));
        ctx.withinFinalUsageWait(metering.idle()).whenComplete((v, e) -> {
            if (metering.inFlight() > 0) {
                // its usage did not come within the wait: cancelled, and charged what it reserved
                link.text(ctx.events().responseCancel(responseId));
                ctx.metrics().finalUsageMissed();
                try {
                    metering.chargeOutstanding(ctx.clock().millis());
                } catch (RuntimeException failed) {
                    ctx.metrics().chargeUnconfirmed();
                    LOG.error("Session {}: could not charge the estimate of its goodbye", sessionId, failed);
                }
                over(Outcome.CANCELLED, then);
            } else {
                over(responseId == null ? Outcome.SKIPPED : cut ? Outcome.CANCELLED : Outcome.DONE, then);
            }
        });
    }

    /**
     * Whether the response the upstream announces now is the goodbye (the next one it announces
     * once the goodbye was asked for): it is not cancelled for the session's ending.
     */
    boolean announced(String id, boolean isNext) {
        if (running && responseId == null && isNext) {
            responseId = id;
            return true;
        }
        return false;
    }

    /** The client left while the goodbye is spoken: it is cancelled (and charged by its usage). */
    void clientGone(UpstreamLink link) {
        if (running && !cut) {
            cut = true;
            link.text(ctx.events().responseCancel(responseId));
        }
    }

    private void over(Outcome outcome, Runnable then) {
        running = false;
        ctx.metrics().goodbye(outcome.label());
        then.run();
    }

    /** The guard's {@code response.create}: the instructions, the limit, no tools. */
    private String event(long maxOutputTokens) {
        ObjectNode e = ctx.mapper().createObjectNode();
        e.put("type", "response.create");
        e.put("event_id", EVENT_ID);
        ObjectNode r = e.putObject("response");
        r.put("instructions", ctx.goodbye().instructions());
        r.put(RealtimeEvents.MAX_OUTPUT_TOKENS, maxOutputTokens);
        r.put("tool_choice", "none");
        r.putArray("tools");
        return e.toString();
    }
}

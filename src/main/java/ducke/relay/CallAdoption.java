package ducke.relay;

import ducke.cluster.ClusterNode;
import ducke.core.cost.SessionLedger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes over the WebRTC calls of a node that left the cluster without ending them (it died): the
 * reaper of the ledger's partition asks here before it ends such a session {@code node_lost}. A
 * live call this node can take (it accepts sessions, the ledger is still held by the member that
 * left) is handed to this member in the grid and its sideband re-attached — the provider's call
 * id is enough; a call whose sideband cannot attach is hung up. Anything else ends as before.
 */
final class CallAdoption {

    private static final Logger LOG = LoggerFactory.getLogger(CallAdoption.class);

    private final RelayContext ctx;
    private final CallContext calls;
    private final ClusterNode cluster;

    CallAdoption(RelayContext ctx, CallContext calls, ClusterNode cluster) {
        this.ctx = ctx;
        this.calls = calls;
        this.cluster = cluster;
    }

    /** True when this node took the session over. */
    boolean adopt(SessionLedger lost) {
        String callId = calls.directory().callId(lost.sessionId());
        if (callId == null || !ctx.registry().accepting()) {
            return false;
        }
        if (!cluster.takeOver(lost.sessionId(), lost.holder())) {
            return false;
        }
        SessionLedger ledger = ctx.guard().get(lost.sessionId()).orElse(null);
        if (ledger == null || !ledger.active()) {
            return false;
        }
        LOG.info("Call {} lost its node: re-attaching its sideband here (provider call {})", ledger.sessionId(), callId);
        RelaySession session = RelaySession.call(ctx, new Handshake(ledger, ledger.clientId(), () -> { }), calls);
        ctx.upstream().executor().execute(() -> {
            if (!session.adopted(callId)) {
                // this node stopped accepting meanwhile: the call is not left unseen
                session.finish(ducke.core.cost.EndReason.NODE_LOST, null, "the call's node left and this one is stopping");
            }
        });
        return true;
    }
}

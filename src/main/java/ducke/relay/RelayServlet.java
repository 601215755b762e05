package ducke.relay;

import ducke.core.cost.SessionLedger;
import ducke.http.RateLimitFilter;
import org.eclipse.jetty.ee10.websocket.server.JettyWebSocketServlet;
import org.eclipse.jetty.ee10.websocket.server.JettyWebSocketServletFactory;

import java.util.concurrent.atomic.AtomicBoolean;

/** {@code /session}: upgrades the requests {@link HandshakeFilter} let through into relayed sessions. */
public final class RelayServlet extends JettyWebSocketServlet {

    private final transient RelayContext ctx;

    RelayServlet(RelayContext ctx) {
        this.ctx = ctx;
    }

    @Override
    protected void configure(JettyWebSocketServletFactory factory) {
        factory.setMaxTextMessageSize(ctx.maxFrameBytes());
        factory.setMaxBinaryMessageSize(ctx.maxFrameBytes());
        factory.setIdleTimeout(ctx.idleTimeout());
        factory.setCreator((request, response) -> {
            var servletRequest = request.getHttpServletRequest();
            SessionLedger ledger = (SessionLedger) servletRequest.getAttribute(HandshakeFilter.LEDGER_ATTRIBUTE);
            AtomicBoolean claimed = (AtomicBoolean) servletRequest.getAttribute(HandshakeFilter.CLAIMED_ATTRIBUTE);
            if (ledger == null || claimed == null || !claimed.compareAndSet(false, true)) {
                return null;
            }
            return new RelaySession(ctx, ledger, (String) servletRequest.getAttribute(RateLimitFilter.CLIENT_ATTRIBUTE));
        });
    }
}

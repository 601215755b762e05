package ducke.relay;

import org.eclipse.jetty.ee10.websocket.server.JettyWebSocketServlet;
import org.eclipse.jetty.ee10.websocket.server.JettyWebSocketServletFactory;


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
        // a frame arrives whole (Jetty joins what the network splits), up to the limit; a longer one closes 1009
        factory.setMaxFrameSize(ctx.maxFrameBytes());
        factory.setAutoFragment(false);
        // an audio event (100 ms of 24 kHz PCM16 is ~6.4 KiB of base64) read in one go, not in 4 KiB pieces
        factory.setInputBufferSize(RelayContext.SOCKET_BUFFER_BYTES);
        factory.setOutputBufferSize(RelayContext.SOCKET_BUFFER_BYTES);
        factory.setIdleTimeout(ctx.idleTimeout());
        factory.setCreator((request, response) -> {
            var servletRequest = request.getHttpServletRequest();
            Handshake handshake = (Handshake) servletRequest.getAttribute(HandshakeFilter.HANDSHAKE_ATTRIBUTE);
            if (handshake == null || !handshake.create()) {
                return null;
            }
            // no permessage-deflate: audio in base64 does not compress, and inflating costs every frame CPU
            response.setExtensions(java.util.List.of());
            Subprotocols offered = Subprotocols.parse(request.getSubProtocols());
            if (offered.realtime()) {
                response.setAcceptedSubProtocol(Subprotocols.REALTIME);
            }
            String betaHeader = servletRequest.getHeader("OpenAI-Beta");
            boolean beta = offered.beta()
                    || betaHeader != null && betaHeader.toLowerCase(java.util.Locale.ROOT).contains("realtime=v1");
            return new ClientEndpoint(new RelaySession(ctx, handshake, beta), ctx.maxFrameBytes());
        });
    }
}

package ducke.relay;

import jakarta.servlet.http.HttpServletRequest;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;

import java.util.function.Consumer;

/**
 * Tells whether an upgrade request's connection was handed to the WebSocket. A 101 that the
 * servlet answered is not enough: Jetty writes it after the servlet has returned, and a client that
 * reset or closed the connection meanwhile (a flaky mobile network) fails that write; Jetty then
 * drops the connection, and the WebSocket never opens nor closes. Jetty also gives up an upgrade
 * whose exchange ends with a read pending. The only sure sign is the connection itself: after the
 * exchange, the endpoint's connection is the WebSocket's, or the upgrade did not happen.
 */
final class UpgradeWatch {

    private UpgradeWatch() {
    }

    /**
     * Calls {@code upgraded} once the HTTP exchange of {@code request} is over, on Jetty's thread:
     * true when the connection now belongs to the WebSocket (which then opens and closes as any),
     * false when it does not and never will. Must not block.
     *
     * @return false when the request is not one of Jetty's (nothing will be called)
     */
    static boolean install(HttpServletRequest request, Consumer<Boolean> upgraded) {
        Request jetty = ServletContextRequest.getServletContextRequest(request);
        if (jetty == null) {
            return false;
        }
        Connection http = jetty.getConnectionMetaData().getConnection();
        EndPoint endPoint = http.getEndPoint();
        jetty.addHttpStreamWrapper(stream -> new HttpStream.Wrapper(stream) {
            @Override
            public void succeeded() {
                try {
                    super.succeeded(); // Jetty hands the endpoint to the upgrade connection here, or not
                } finally {
                    upgraded.accept(endPoint.getConnection() != http);
                }
            }

            @Override
            public void failed(Throwable failure) {
                try {
                    super.failed(failure);
                } finally {
                    upgraded.accept(false);
                }
            }
        });
        return true;
    }
}

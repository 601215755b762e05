package ducke.cli;

import io.dropwizard.core.server.DefaultServerFactory;
import io.dropwizard.core.server.ServerFactory;
import io.dropwizard.core.server.SimpleServerFactory;
import io.dropwizard.jetty.ConnectorFactory;
import io.dropwizard.jetty.HttpConnectorFactory;
import io.dropwizard.jetty.HttpsConnectorFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;

/**
 * Finds an HTTP port that is already taken before anything slow starts (the grid, the database
 * migrations), so that the operator hears about it at once and in one line.
 */
public final class PortCheck {

    private PortCheck() {
    }

    /** @throws StartupException naming the port, its role and its variable, when one cannot be bound */
    public static void requireFree(ServerFactory server) {
        if (server instanceof DefaultServerFactory d) {
            check(d.getApplicationConnectors(), "application", "DUCKE_PORT", "server.applicationConnectors");
            check(d.getAdminConnectors(), "admin", "DUCKE_ADMIN_PORT", "server.adminConnectors");
        } else if (server instanceof SimpleServerFactory s) {
            check(List.of(s.getConnector()), "application", "DUCKE_PORT", "server.connector");
        }
    }

    private static void check(List<ConnectorFactory> connectors, String role, String variable, String key) {
        for (int i = 0; i < connectors.size(); i++) {
            if (connectors.get(i) instanceof HttpConnectorFactory http && http.getPort() > 0) {
                // the HTTPS connector is added from the tls block, not from the connector list
                boolean tls = http instanceof HttpsConnectorFactory;
                require(http, tls ? "HTTPS" : role, tls ? "DUCKE_TLS_PORT" : variable, tls ? "tls.port" : key + "[" + i + "].port");
            }
        }
    }

    private static void require(HttpConnectorFactory http, String role, String variable, String key) {
        String host = http.getBindHost() == null || http.getBindHost().isBlank() ? "0.0.0.0" : http.getBindHost();
        if (!bindable(host, http.getPort())) {
            throw new StartupException("Cannot start: the " + role + " port " + http.getPort() + " on " + host
                    + " is already in use (" + variable + ", " + key + "). Stop the process that holds it, or choose "
                    + "another port, e.g. " + variable + "=" + (http.getPort() + 10) + ".");
        }
    }

    private static boolean bindable(String host, int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(host, port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}

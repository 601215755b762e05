package ducke.config;

import io.dropwizard.core.server.DefaultServerFactory;
import io.dropwizard.core.server.ServerFactory;
import io.dropwizard.jetty.ConnectorFactory;
import io.dropwizard.jetty.HttpsConnectorFactory;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code tls} block: an optional HTTPS application connector, so that {@code https://} and
 * {@code wss://} clients reach the guard without a TLS-terminating proxy. It serves exactly what
 * the plain application connector serves (same routes, limits, filters and WebSocket relay).
 */
@TlsKeystore
public class TlsFactory {

    /** HTTPS port of the application; empty or 0 = no HTTPS connector. */
    @Min(0)
    @Max(65535)
    private Integer port = 0;

    /** Interface the HTTPS connector binds to; empty = every interface (as the plain connector). */
    @NotNull
    private String bindHost = "";

    /** PKCS12 keystore holding the server's private key and certificate chain. */
    @NotNull
    private String keystorePath = "";

    /** Password of the keystore (and of its key entry); never logged. */
    @NotNull
    private String keystorePassword = "";

    public Integer getPort() { return port; }
    public void setPort(Integer port) { this.port = port; }
    public String getBindHost() { return bindHost; }
    public void setBindHost(String bindHost) { this.bindHost = bindHost; }
    public String getKeystorePath() { return keystorePath; }
    public void setKeystorePath(String keystorePath) { this.keystorePath = keystorePath; }
    public String getKeystorePassword() { return keystorePassword; }
    public void setKeystorePassword(String keystorePassword) { this.keystorePassword = keystorePassword; }

    /** Whether an HTTPS connector is configured. */
    public boolean enabled() {
        return port != null && port > 0;
    }

    /**
     * Adds the HTTPS connector to the application connectors the server will be built with. Called
     * from {@code run()}, which Dropwizard calls before it builds the server, so the connector gets
     * the application's handlers, thread pool and connector metrics like the configured ones.
     *
     * @throws IllegalStateException when the server is not the default (application + admin) kind
     */
    public void addConnectorTo(ServerFactory server) {
        if (!enabled()) {
            return;
        }
        if (!(server instanceof DefaultServerFactory factory)) {
            throw new IllegalStateException("tls.port (DUCKE_TLS_PORT) needs the default server type "
                    + "(server.applicationConnectors), not " + server.getClass().getSimpleName());
        }
        List<ConnectorFactory> connectors = new ArrayList<>(factory.getApplicationConnectors());
        connectors.add(connector());
        factory.setApplicationConnectors(connectors);
    }

    private HttpsConnectorFactory connector() {
        HttpsConnectorFactory https = new HttpsConnectorFactory();
        https.setPort(port);
        https.setBindHost(bindHost.isBlank() ? null : bindHost);
        https.setKeyStoreType(TlsKeystore.TYPE);
        https.setKeyStorePath(keystorePath);
        https.setKeyStorePassword(keystorePassword);
        return https;
    }
}

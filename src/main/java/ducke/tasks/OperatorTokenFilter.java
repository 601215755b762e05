package ducke.tasks;

import ducke.api.ErrorBody;
import ducke.core.auth.BearerToken;
import ducke.core.auth.Role;
import ducke.core.auth.TokenRegistry;
import ducke.errors.ErrorWords;
import ducke.http.ErrorResponses;
import ducke.http.SingleHeaders;
import io.dropwizard.core.server.DefaultServerFactory;
import io.dropwizard.core.server.ServerFactory;
import io.dropwizard.core.server.SimpleServerFactory;
import io.dropwizard.core.setup.AdminEnvironment;
import io.dropwizard.jetty.ConnectorFactory;
import io.dropwizard.jetty.HttpConnectorFactory;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Admin tasks on an admin port reachable beyond loopback need the operator token
 * ({@code Authorization: Bearer …}): no token or an unknown one → 401, another role → 403.
 * On a loopback-only admin port, reaching the port is the credential, as before.
 */
public final class OperatorTokenFilter implements Filter {

    private static final Logger LOG = LoggerFactory.getLogger(OperatorTokenFilter.class);

    private final TokenRegistry tokens;
    private final ErrorResponses errors;

    public OperatorTokenFilter(TokenRegistry tokens, ErrorResponses errors) {
        this.tokens = tokens;
        this.errors = errors;
    }

    /** Guards {@code /tasks/*} when any admin connector listens beyond loopback. */
    public static void protect(AdminEnvironment admin, ServerFactory server, TokenRegistry tokens, ErrorResponses errors) {
        if (!beyondLoopback(server)) {
            return;
        }
        LOG.info("The admin port listens beyond loopback: admin tasks require the operator token");
        admin.addFilter("operator-token", new OperatorTokenFilter(tokens, errors))
                .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), true, "/tasks/*");
    }

    /** Whether an admin connector may be reached from another host; unknown set-ups count as reachable. */
    static boolean beyondLoopback(ServerFactory server) {
        List<ConnectorFactory> connectors;
        if (server instanceof DefaultServerFactory d) {
            connectors = d.getAdminConnectors();
        } else if (server instanceof SimpleServerFactory s) {
            connectors = List.of(s.getConnector());
        } else {
            return true;
        }
        return connectors.stream().anyMatch(c -> !(c instanceof HttpConnectorFactory h) || !loopback(h.getBindHost()));
    }

    private static boolean loopback(String host) {
        if (host == null || host.isBlank()) {
            return false;
        }
        try {
            for (InetAddress a : InetAddress.getAllByName(host)) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
        String repeated = SingleHeaders.repeated((HttpServletRequest) req);
        if (repeated != null) {
            errors.write((HttpServletResponse) res, new ErrorBody(400, ErrorWords.INVALID_REQUEST,
                    SingleHeaders.refusal(repeated), Map.of()), Map.of());
            return;
        }
        Set<Role> roles = tokens.rolesOf(BearerToken.of(((HttpServletRequest) req).getHeader("Authorization")));
        if (roles.contains(Role.OPERATOR)) {
            chain.doFilter(req, res);
            return;
        }
        HttpServletResponse response = (HttpServletResponse) res;
        if (roles.isEmpty()) {
            errors.write(response, new ErrorBody(401, ErrorWords.UNAUTHORIZED,
                    "Admin tasks on this port need the operator token (Authorization: Bearer …)", Map.of()),
                    Map.of("WWW-Authenticate", "Bearer realm=\"duck-e-admin\""));
        } else {
            errors.write(response, new ErrorBody(403, ErrorWords.FORBIDDEN, "Admin tasks need the operator role", Map.of()),
                    Map.of());
        }
    }
}

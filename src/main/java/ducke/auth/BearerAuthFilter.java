package ducke.auth;

import ducke.core.auth.BearerToken;
import io.dropwizard.auth.AuthFilter;
import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;

/**
 * Bearer-token authentication for the API, with the one header parser ({@link BearerToken}) that
 * the admin tasks and the realtime handshake use too. Unlike Dropwizard's OAuth filter it takes no
 * {@code access_token} query parameter: a token in a URL ends up in request logs.
 */
@Priority(Priorities.AUTHENTICATION)
final class BearerAuthFilter extends AuthFilter<String, Caller> {

    static final String SCHEME = "Bearer";

    @Override
    public void filter(ContainerRequestContext request) {
        if (!authenticate(request, BearerToken.of(request.getHeaderString(HttpHeaders.AUTHORIZATION)), SCHEME)) {
            throw unauthorizedHandler.buildException(prefix, realm);
        }
    }

    static final class Builder extends AuthFilterBuilder<String, Caller, BearerAuthFilter> {
        @Override
        protected BearerAuthFilter newInstance() {
            return new BearerAuthFilter();
        }
    }
}

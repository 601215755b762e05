package ducke.auth;

import ducke.core.auth.TokenRegistry;
import io.dropwizard.auth.AuthDynamicFeature;
import io.dropwizard.auth.AuthValueFactoryProvider;
import io.dropwizard.jersey.setup.JerseyEnvironment;
import org.glassfish.jersey.server.filter.RolesAllowedDynamicFeature;

/** Registers bearer-token authentication and {@code @RolesAllowed} with Jersey. */
public final class AuthSetup {

    private AuthSetup() {
    }

    public static void register(JerseyEnvironment jersey, TokenRegistry tokens) {
        BearerTokenAuthenticator auth = new BearerTokenAuthenticator(tokens);
        jersey.register(new AuthDynamicFeature(new BearerAuthFilter.Builder()
                .setAuthenticator(auth)
                .setAuthorizer(auth)
                .setPrefix(BearerAuthFilter.SCHEME)
                .setRealm("duck-e")
                .setUnauthorizedHandler(new JsonUnauthorizedHandler())
                .buildAuthFilter()));
        jersey.register(RolesAllowedDynamicFeature.class);
        jersey.register(new AuthValueFactoryProvider.Binder<>(Caller.class));
    }
}

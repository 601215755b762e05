package ducke.auth;

import ducke.core.auth.Role;
import ducke.core.auth.TokenRegistry;
import io.dropwizard.auth.Authenticator;
import io.dropwizard.auth.Authorizer;
import jakarta.annotation.Nullable;
import jakarta.ws.rs.container.ContainerRequestContext;

import java.util.Optional;
import java.util.Set;

/** Bearer tokens to callers, and callers to roles. */
public final class BearerTokenAuthenticator implements Authenticator<String, Caller>, Authorizer<Caller> {

    private final TokenRegistry tokens;

    public BearerTokenAuthenticator(TokenRegistry tokens) {
        this.tokens = tokens;
    }

    @Override
    public Optional<Caller> authenticate(String token) {
        Set<Role> roles = tokens.rolesOf(token);
        return roles.isEmpty() ? Optional.empty() : Optional.of(new Caller(roles));
    }

    @Override
    public boolean authorize(Caller caller, String role, @Nullable ContainerRequestContext request) {
        return caller.roles().stream().anyMatch(r -> r.wireName().equals(role));
    }
}

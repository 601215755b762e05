package ducke.auth;

import ducke.core.auth.Role;

import java.security.Principal;
import java.util.Set;

/** An authenticated API caller: only its roles, never its token. */
public record Caller(Set<Role> roles) implements Principal {
    @Override
    public String getName() {
        return roles.stream().map(Role::wireName).sorted().reduce((a, b) -> a + "+" + b).orElse("none");
    }
}

package ducke.config;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import ducke.core.auth.Role;
import ducke.core.auth.TokenRegistry;
import jakarta.validation.constraints.NotNull;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code auth} block: bearer tokens by role. A role with no token gets a random one at
 * start-up, logged once so the operator can use it; tokens are never logged anywhere else.
 */
public class AuthFactory {

    private static final Logger LOG = LoggerFactory.getLogger(AuthFactory.class);
    private static final int MIN_TOKEN_LENGTH = 16;

    @NotNull
    @TokenLength(min = MIN_TOKEN_LENGTH)
    @JsonDeserialize(using = CommaSeparatedListDeserializer.class)
    private List<String> serviceTokens = new ArrayList<>();

    @NotNull
    @TokenLength(min = MIN_TOKEN_LENGTH)
    @JsonDeserialize(using = CommaSeparatedListDeserializer.class)
    private List<String> operatorTokens = new ArrayList<>();

    public List<String> getServiceTokens() { return serviceTokens; }
    public void setServiceTokens(List<String> serviceTokens) { this.serviceTokens = serviceTokens; }
    public List<String> getOperatorTokens() { return operatorTokens; }
    public void setOperatorTokens(List<String> operatorTokens) { this.operatorTokens = operatorTokens; }

    public TokenRegistry build() {
        Map<Role, List<String>> byRole = new EnumMap<>(Role.class);
        byRole.put(Role.SERVICE, orGenerated(Role.SERVICE, serviceTokens));
        byRole.put(Role.OPERATOR, orGenerated(Role.OPERATOR, operatorTokens));
        return new TokenRegistry(byRole);
    }

    private static List<String> orGenerated(Role role, List<String> configured) {
        if (!configured.isEmpty()) {
            return configured;
        }
        String token = TokenRegistry.generate();
        LOG.warn("No {} token configured; generated one for this run: {}", role.wireName(), token);
        return List.of(token);
    }
}

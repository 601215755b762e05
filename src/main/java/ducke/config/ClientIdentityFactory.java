package ducke.config;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import ducke.core.identity.Cidr;
import ducke.core.identity.ClientIdentityResolver;
import jakarta.validation.constraints.NotNull;

import java.util.ArrayList;
import java.util.List;

/** The {@code clientIdentity} block: which direct peers may speak for the client in X-Forwarded-For. */
public class ClientIdentityFactory {

    @NotNull
    @CidrList
    @JsonDeserialize(using = CommaSeparatedListDeserializer.class)
    private List<String> trustedProxies = new ArrayList<>(List.of("127.0.0.0/8", "::1/128"));

    public List<String> getTrustedProxies() { return trustedProxies; }
    public void setTrustedProxies(List<String> trustedProxies) { this.trustedProxies = trustedProxies; }

    public ClientIdentityResolver build() {
        return new ClientIdentityResolver(trustedProxies.stream().map(Cidr::parse).toList());
    }
}

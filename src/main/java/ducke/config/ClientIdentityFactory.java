package ducke.config;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import ducke.core.identity.Cidr;
import ducke.core.identity.ClientIdentityResolver;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code clientIdentity} block: which direct peers may speak for the client in X-Forwarded-For,
 * and how many leading bits of an address make one client (its network).
 */
public class ClientIdentityFactory {

    @NotNull
    @CidrList
    @JsonDeserialize(using = CommaSeparatedListDeserializer.class)
    private List<String> trustedProxies = new ArrayList<>(List.of("127.0.0.0/8", "::1/128"));

    /** An IPv4 client is its /32 by default: one address (NAT puts households behind one anyway). */
    @Min(8)
    @Max(32)
    private int ipv4Prefix = ClientIdentityResolver.DEFAULT_IPV4_PREFIX;

    /** An IPv6 client is its /64 by default: the smallest network a subscriber line is given. */
    @Min(16)
    @Max(128)
    private int ipv6Prefix = ClientIdentityResolver.DEFAULT_IPV6_PREFIX;

    public List<String> getTrustedProxies() { return trustedProxies; }
    public void setTrustedProxies(List<String> trustedProxies) { this.trustedProxies = trustedProxies; }
    public int getIpv4Prefix() { return ipv4Prefix; }
    public void setIpv4Prefix(int ipv4Prefix) { this.ipv4Prefix = ipv4Prefix; }
    public int getIpv6Prefix() { return ipv6Prefix; }
    public void setIpv6Prefix(int ipv6Prefix) { this.ipv6Prefix = ipv6Prefix; }

    public ClientIdentityResolver build() {
        return new ClientIdentityResolver(trustedProxies.stream().map(Cidr::parse).toList(), ipv4Prefix, ipv6Prefix);
    }
}

package ducke.core.identity;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds the client of a request. {@code X-Forwarded-For} is believed only when the direct peer is
 * a trusted proxy; then the client is the right-most address in the chain that is not itself a
 * trusted proxy. Malformed entries are skipped, never used as a key. Thread-safe, immutable.
 */
public final class ClientIdentityResolver {

    /** Key used when even the direct peer is not an address (never expected from a TCP connector). */
    public static final String UNKNOWN_PEER = "unknown";

    /** At most this many chain entries are examined, right to left. */
    static final int MAX_HOPS = 32;

    private final List<Cidr> trustedProxies;

    public ClientIdentityResolver(List<Cidr> trustedProxies) {
        this.trustedProxies = List.copyOf(trustedProxies);
    }

    /**
     * @param peer           the direct peer's address as the connector reports it
     * @param forwardedFor   every {@code X-Forwarded-For} header value, in order (may be empty)
     * @return the canonical address text of the client
     */
    public String resolve(String peer, List<String> forwardedFor) {
        Optional<InetAddress> peerAddress = IpAddresses.parse(peer);
        if (peerAddress.isEmpty()) {
            return UNKNOWN_PEER;
        }
        InetAddress client = peerAddress.get();
        if (!isTrusted(client) || forwardedFor == null || forwardedFor.isEmpty()) {
            return IpAddresses.canonical(client);
        }
        List<String> hops = new ArrayList<>();
        for (String header : forwardedFor) {
            if (header != null) {
                hops.addAll(List.of(header.split(",", -1)));
            }
        }
        int examined = 0;
        for (int i = hops.size() - 1; i >= 0 && examined < MAX_HOPS; i--, examined++) {
            Optional<InetAddress> hop = IpAddresses.parse(hops.get(i));
            if (hop.isEmpty()) {
                continue;
            }
            client = hop.get();
            if (!isTrusted(client)) {
                break;
            }
        }
        return IpAddresses.canonical(client);
    }

    public boolean isTrusted(InetAddress address) {
        for (Cidr c : trustedProxies) {
            if (c.contains(address)) {
                return true;
            }
        }
        return false;
    }

    public List<Cidr> trustedProxies() {
        return trustedProxies;
    }
}

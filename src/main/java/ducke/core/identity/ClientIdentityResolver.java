package ducke.core.identity;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds the client of a request. {@code X-Forwarded-For} is believed only when the direct peer is
 * a trusted proxy; then the client is the right-most address in the chain that is not itself a
 * trusted proxy. Malformed entries are skipped, never used as a key. Thread-safe, immutable.
 *
 * <p>A client is its network, not its address: an IPv6 address is keyed by its /64 (one subscriber
 * line gets a /64 and may rotate through 2^64 addresses in it), an IPv4 address by its /32, both
 * configurable. The key is the network's text, {@code 2001:db8:1:2::/64}; a full-length prefix
 * keys by the plain address ({@code 203.0.113.7}). Every limit, quota, slot and spend cap uses it.
 */
public final class ClientIdentityResolver {

    /** Key used when even the direct peer is not an address (never expected from a TCP connector). */
    public static final String UNKNOWN_PEER = "unknown";

    /** At most this many chain entries are examined, right to left. */
    static final int MAX_HOPS = 32;

    public static final int DEFAULT_IPV4_PREFIX = 32;
    public static final int DEFAULT_IPV6_PREFIX = 64;

    private final List<Cidr> trustedProxies;
    /** Read once per key: the cluster's settings may change them at any moment ({@link #usePrefixes}). */
    private volatile Prefixes prefixes;

    private record Prefixes(int ipv4, int ipv6) {
        Prefixes {
            if (ipv4 < 1 || ipv4 > 32 || ipv6 < 1 || ipv6 > 128) {
                throw new IllegalArgumentException("client prefixes must be 1-32 (IPv4) and 1-128 (IPv6)");
            }
        }
    }

    /** Every address its own client (/32 and /128): for code that needs no grouping. */
    public ClientIdentityResolver(List<Cidr> trustedProxies) {
        this(trustedProxies, 32, 128);
    }

    /**
     * @param ipv4Prefix bits of an IPv4 address that identify a client, 1-32
     * @param ipv6Prefix bits of an IPv6 address that identify a client, 1-128
     */
    public ClientIdentityResolver(List<Cidr> trustedProxies, int ipv4Prefix, int ipv6Prefix) {
        this.trustedProxies = List.copyOf(trustedProxies);
        this.prefixes = new Prefixes(ipv4Prefix, ipv6Prefix);
    }

    /**
     * @param peer           the direct peer's address as the connector reports it
     * @param forwardedFor   every {@code X-Forwarded-For} header value, in order (may be empty)
     * @return the client's key: its network ({@link #key(InetAddress)})
     */
    public String resolve(String peer, List<String> forwardedFor) {
        Optional<InetAddress> peerAddress = IpAddresses.parse(peer);
        if (peerAddress.isEmpty()) {
            return UNKNOWN_PEER;
        }
        InetAddress client = peerAddress.get();
        if (!isTrusted(client) || forwardedFor == null || forwardedFor.isEmpty()) {
            return key(client);
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
        return key(client);
    }

    /** The key of the client at {@code address}: its network's text, or the address at full length. */
    public String key(InetAddress address) {
        int bits = address.getAddress().length * 8;
        Prefixes p = prefixes;
        int prefix = bits == 32 ? p.ipv4() : p.ipv6();
        return prefix == bits ? IpAddresses.canonical(address) : Cidr.network(address, prefix).toString();
    }

    /**
     * The key of a client named in text by a trusted backend or an operator: an address, or a
     * network in this resolver's own form, gives its key; anything else is empty.
     */
    public Optional<String> keyOf(String text) {
        if (text == null) {
            return Optional.empty();
        }
        Optional<String> address = IpAddresses.parse(text).map(this::key);
        if (address.isPresent() || !text.contains("/")) {
            return address;
        }
        try {
            Cidr network = Cidr.parse(text);
            String key = key(network.address());
            return key.equals(network.toString()) ? Optional.of(key) : Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Groups clients by these prefixes from now on (a new version of the cluster's settings); both at once. */
    public void usePrefixes(int ipv4Prefix, int ipv6Prefix) {
        this.prefixes = new Prefixes(ipv4Prefix, ipv6Prefix);
    }

    public int ipv4Prefix() {
        return prefixes.ipv4();
    }

    public int ipv6Prefix() {
        return prefixes.ipv6();
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

package ducke.core.identity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Clients keyed by their network: an IPv6 /64 is one client, an IPv4 /32 one client (both configurable). */
class ClientNetworksTest {

    private static final List<Cidr> PROXIES = List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128"));
    private final ClientIdentityResolver defaults = new ClientIdentityResolver(PROXIES,
            ClientIdentityResolver.DEFAULT_IPV4_PREFIX, ClientIdentityResolver.DEFAULT_IPV6_PREFIX);

    private static InetAddressText ip(String text) {
        return new InetAddressText(text);
    }

    private record InetAddressText(String text) {
        java.net.InetAddress address() {
            return IpAddresses.parse(text).orElseThrow();
        }
    }

    @Test
    void anIpv6ClientIsItsSlash64() {
        assertThat(defaults.resolve("2001:db8:1:2::5", List.of())).isEqualTo("2001:db8:1:2::/64");
        assertThat(defaults.resolve("2001:DB8:1:2:aaaa:bbbb:cccc:dddd", List.of())).isEqualTo("2001:db8:1:2::/64");
        assertThat(defaults.resolve("2001:db8:1:3::5", List.of())).as("the next /64 is another client")
                .isEqualTo("2001:db8:1:3::/64");
        assertThat(defaults.resolve("2001:db8:0:0:1::", List.of())).isEqualTo("2001:db8::/64");
    }

    @Test
    void rotatingThroughASlash64BehindATrustedProxyStaysOneClient() {
        String first = defaults.resolve("127.0.0.1", List.of("2001:db8:abcd:12::1"));
        for (String rotated : new String[]{"2001:db8:abcd:12::2", "2001:db8:abcd:12:ffff:ffff:ffff:ffff",
                "[2001:db8:abcd:12:1234::9]:4431", "2001:DB8:ABCD:0012:0:0:0:7"}) {
            assertThat(defaults.resolve("127.0.0.1", List.of(rotated))).as(rotated).isEqualTo(first);
        }
        assertThat(first).isEqualTo("2001:db8:abcd:12::/64");
    }

    @Test
    void anIpv4ClientIsItsAddressByDefault() {
        assertThat(defaults.resolve("203.0.113.7", List.of())).isEqualTo("203.0.113.7");
        assertThat(defaults.resolve("::ffff:203.0.113.7", List.of())).as("IPv4-mapped is IPv4").isEqualTo("203.0.113.7");
        assertThat(defaults.resolve("127.0.0.1", List.of("198.51.100.9"))).isEqualTo("198.51.100.9");
    }

    @Test
    void prefixesAreConfigurable() {
        ClientIdentityResolver wide = new ClientIdentityResolver(PROXIES, 24, 48);
        assertThat(wide.resolve("203.0.113.7", List.of())).isEqualTo("203.0.113.0/24");
        assertThat(wide.resolve("2001:db8:1:2::5", List.of())).isEqualTo("2001:db8:1::/48");
        ClientIdentityResolver exact = new ClientIdentityResolver(PROXIES, 32, 128);
        assertThat(exact.resolve("2001:db8:1:2::5", List.of())).isEqualTo("2001:db8:1:2::5");
        assertThat(new ClientIdentityResolver(PROXIES).resolve("2001:db8::7", List.of()))
                .as("the plain constructor keys every address alone").isEqualTo("2001:db8::7");
    }

    @Test
    void trustIsJudgedOnTheAddressNotItsNetwork() {
        // ::1 is trusted, ::2 is in the same /64 but is not: it is the client, keyed by its network
        assertThat(defaults.resolve("::2", List.of("6.6.6.6"))).isEqualTo("::/64");
        assertThat(defaults.resolve("::1", List.of("6.6.6.6"))).isEqualTo("6.6.6.6");
    }

    @Test
    void namedClientsMapToTheirKey() {
        assertThat(defaults.keyOf("2001:db8:1:2::77")).contains("2001:db8:1:2::/64");
        assertThat(defaults.keyOf(" 2001:db8:1:2::/64 ")).as("a key names itself").contains("2001:db8:1:2::/64");
        assertThat(defaults.keyOf("2001:DB8:1:2:0::/64")).contains("2001:db8:1:2::/64");
        assertThat(defaults.keyOf("203.0.113.7")).contains("203.0.113.7");
        assertThat(defaults.key(ip("198.51.100.1").address())).isEqualTo("198.51.100.1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"client-42", "2001:db8:1:2::5/64", "2001:db8::/48", "203.0.113.0/24", "1.2.3.4/33", "", "a/b"})
    void textThatIsNoAddressAndNoKeyOfThisResolverHasNone(String text) {
        assertThat(defaults.keyOf(text)).isEmpty();
    }

    @Test
    void refusesPrefixesOutOfRange() {
        assertThatThrownBy(() -> new ClientIdentityResolver(PROXIES, 0, 64)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ClientIdentityResolver(PROXIES, 33, 64)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ClientIdentityResolver(PROXIES, 32, 129)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aNetworkIsTheMaskedBlockOfItsAddress() {
        Cidr n = Cidr.network(ip("2001:db8:1:2:3:4:5:6").address(), 64);
        assertThat(n).hasToString("2001:db8:1:2::/64");
        assertThat(n.contains(ip("2001:db8:1:2:ffff::1").address())).isTrue();
        assertThat(n.contains(ip("2001:db8:1:3::1").address())).isFalse();
        assertThat(n.address()).isEqualTo(ip("2001:db8:1:2::").address());
        assertThat(Cidr.network(ip("203.0.113.77").address(), 25)).hasToString("203.0.113.0/25");
        assertThat(Cidr.network(ip("203.0.113.200").address(), 25)).hasToString("203.0.113.128/25");
        assertThatThrownBy(() -> Cidr.network(ip("1.2.3.4").address(), 33)).isInstanceOf(IllegalArgumentException.class);
    }
}

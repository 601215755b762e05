package ducke.core.identity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ClientIdentityResolverTest {

    private static final String CLIENT = "203.0.113.7";
    private static final String PROXY = "10.0.0.1";
    private static final String UNTRUSTED_PEER = "198.51.100.2";

    private final ClientIdentityResolver resolver = new ClientIdentityResolver(List.of(
            Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128"), Cidr.parse("10.0.0.0/8")));

    private String resolve(String peer, String... forwardedFor) {
        String client = resolver.resolve(peer, List.of(forwardedFor));
        // whatever the input, the answer is an address in canonical form or the unknown-peer key
        if (!client.equals(ClientIdentityResolver.UNKNOWN_PEER)) {
            assertThat(IpAddresses.canonical(client)).as("result is canonical").contains(client);
        }
        return client;
    }

    @Test
    void directUntrustedPeerIsTheClient() {
        assertThat(resolve(UNTRUSTED_PEER)).isEqualTo(UNTRUSTED_PEER);
        assertThat(resolver.resolve(UNTRUSTED_PEER, null)).isEqualTo(UNTRUSTED_PEER);
    }

    @Test
    void untrustedPeerCannotSpoofItsIdentityWithForwardedFor() {
        assertThat(resolve(UNTRUSTED_PEER, "6.6.6.6")).isEqualTo(UNTRUSTED_PEER);
        assertThat(resolve(UNTRUSTED_PEER, "6.6.6.6, 7.7.7.7")).isEqualTo(UNTRUSTED_PEER);
        assertThat(resolve(UNTRUSTED_PEER, "10.0.0.2")).isEqualTo(UNTRUSTED_PEER);
        assertThat(resolve(UNTRUSTED_PEER, "127.0.0.1")).isEqualTo(UNTRUSTED_PEER);
        assertThat(resolve(UNTRUSTED_PEER, "6.6.6.6", "7.7.7.7")).isEqualTo(UNTRUSTED_PEER);
    }

    @Test
    void trustedPeerWithoutForwardedForIsTheClient() {
        assertThat(resolve(PROXY)).isEqualTo(PROXY);
        assertThat(resolver.resolve(PROXY, null)).isEqualTo(PROXY);
        assertThat(resolver.resolve("127.0.0.1", Collections.singletonList(null))).isEqualTo("127.0.0.1");
    }

    @Test
    void trustedPeerForwardsTheClientAddress() {
        assertThat(resolve(PROXY, CLIENT)).isEqualTo(CLIENT);
        assertThat(resolve("127.0.0.1", CLIENT)).isEqualTo(CLIENT);
    }

    @Test
    void clientIsTheRightMostAddressThatIsNotATrustedProxy() {
        assertThat(resolve(PROXY, "203.0.113.7, 10.0.0.2")).isEqualTo(CLIENT);
        assertThat(resolve(PROXY, "203.0.113.7, 10.0.0.3, 127.0.0.1, 10.0.0.2")).isEqualTo(CLIENT);
    }

    @Test
    void spoofedEntriesLeftOfTheRealClientAreIgnored() {
        assertThat(resolve(PROXY, "6.6.6.6, 203.0.113.7")).isEqualTo(CLIENT);
        assertThat(resolve(PROXY, "6.6.6.6, 7.7.7.7, 203.0.113.7, 10.0.0.2")).isEqualTo(CLIENT);
        assertThat(resolve(PROXY, "10.0.0.9, 203.0.113.7")).isEqualTo(CLIENT);
    }

    @Test
    void emptyLeadingEntryIsSkippedNotUsedAsAKey() {
        // the original service took the left-most entry, so ", 9.9.9.9" made every client the empty key
        assertThat(resolve(PROXY, ", 9.9.9.9")).isEqualTo("9.9.9.9");
        assertThat(resolve(PROXY, ",9.9.9.9")).isEqualTo("9.9.9.9");
        assertThat(resolve(UNTRUSTED_PEER, ", 9.9.9.9")).isEqualTo(UNTRUSTED_PEER);
    }

    @Test
    void garbageEntriesAreSkipped() {
        assertThat(resolve(PROXY, "garbage, 203.0.113.7")).isEqualTo(CLIENT);
        assertThat(resolve(PROXY, "203.0.113.7, ")).isEqualTo(CLIENT);
        assertThat(resolve(PROXY, "203.0.113.7, unknown")).isEqualTo(CLIENT);
        assertThat(resolve(PROXY, "203.0.113.7, _hidden, 10.0.0.2")).isEqualTo(CLIENT);
        assertThat(resolve(PROXY, "203.0.113.7, localhost")).isEqualTo(CLIENT);
        assertThat(resolve(PROXY, "203.0.113.7, fe80::1%eth0")).isEqualTo(CLIENT);
    }

    @ParameterizedTest(name = "trusted peer with ''{0}'' -> the peer")
    @NullAndEmptySource
    @ValueSource(strings = {
            "unknown",
            " ",
            ",",
            ", ,,",
            "garbage, , _hidden",
            "localhost",
            "evil.com, unknown",
            "1.2.3, 256.1.1.1",
    })
    void forwardedForWithoutAnyAddressLeavesThePeer(String header) {
        String client = resolver.resolve(PROXY, Collections.singletonList(header));

        assertThat(client).isEqualTo(PROXY);
    }

    @Test
    void severalHeaderValuesAreJoinedInOrder() {
        assertThat(resolve(PROXY, "203.0.113.7", "198.51.100.9")).isEqualTo("198.51.100.9");
        assertThat(resolve(PROXY, "198.51.100.9", "203.0.113.7")).isEqualTo(CLIENT);
        assertThat(resolve(PROXY, "198.51.100.9, 203.0.113.7", "10.0.0.2")).isEqualTo(CLIENT);
        assertThat(resolve(PROXY, "6.6.6.6", "203.0.113.7, 10.0.0.2", "10.0.0.3")).isEqualTo(CLIENT);
    }

    @Test
    void nullHeaderValuesAreSkipped() {
        assertThat(resolver.resolve(PROXY, Arrays.asList(null, CLIENT, null))).isEqualTo(CLIENT);
    }

    @Test
    void ipv6ClientBehindAnIpv4Proxy() {
        assertThat(resolve(PROXY, "2001:DB8:0:0:0:0:0:7")).isEqualTo("2001:db8::7");
        assertThat(resolve(PROXY, "[2001:db8::7]:51234")).isEqualTo("2001:db8::7");
    }

    @Test
    void clientsBehindAnIpv6Proxy() {
        assertThat(resolve("::1", "2001:db8::7")).isEqualTo("2001:db8::7");
        assertThat(resolve("::1", CLIENT)).isEqualTo(CLIENT);
        assertThat(resolve("::1", "2001:db8::7, ::1")).isEqualTo("2001:db8::7");
        assertThat(resolve("[::1]:8443", "2001:db8::7")).isEqualTo("2001:db8::7");
    }

    @Test
    void trustedIpv6ProxyRangeIsHonoured() {
        ClientIdentityResolver v6 = new ClientIdentityResolver(List.of(Cidr.parse("fd00::/8")));

        assertThat(v6.resolve("fd00::1", List.of("2001:db8::7, fd00::2"))).isEqualTo("2001:db8::7");
        assertThat(v6.resolve("fd00::1", List.of("2001:db8::7, fd00:0:0:0:0:0:0:3, fd12::4"))).isEqualTo("2001:db8::7");
        assertThat(v6.resolve("2001:db8::9", List.of("2001:db8::7"))).isEqualTo("2001:db8::9");
    }

    @Test
    void untrustedIpv6PeerIsTheClient() {
        assertThat(resolve("2001:DB8::9", "6.6.6.6")).isEqualTo("2001:db8::9");
    }

    @Test
    void ipv4MappedPeerIsMatchedAgainstIpv4Proxies() {
        assertThat(resolve("::ffff:10.0.0.1", CLIENT)).isEqualTo(CLIENT);
        assertThat(resolve("::ffff:198.51.100.2", "6.6.6.6")).isEqualTo(UNTRUSTED_PEER);
        assertThat(resolve(PROXY, "::ffff:203.0.113.7")).isEqualTo(CLIENT);
    }

    @Test
    void chainOfOnlyTrustedProxiesGivesTheLeftMostValidEntry() {
        assertThat(resolve(PROXY, "10.0.0.5, 10.0.0.4")).isEqualTo("10.0.0.5");
        assertThat(resolve(PROXY, "garbage, 10.0.0.5, , 127.0.0.1")).isEqualTo("10.0.0.5");
        assertThat(resolve(PROXY, "10.0.0.5", "::1")).isEqualTo("10.0.0.5");
    }

    @Test
    void longChainsOfProxiesAreFollowed() {
        List<String> hops = new ArrayList<>();
        hops.add(CLIENT);
        for (int i = 2; i < 12; i++) {
            hops.add("10.0.0." + i);
        }

        assertThat(resolve(PROXY, String.join(", ", hops))).isEqualTo(CLIENT);
    }

    @Test
    void hugeGarbageHeaderFromATrustedProxyLeavesThePeer() {
        String header = String.join(",", Collections.nCopies(10_000, "x"));

        assertThat(resolve(PROXY, header)).isEqualTo(PROXY);
    }

    @ParameterizedTest(name = "peer ''{0}'' -> unknown")
    @NullAndEmptySource
    @ValueSource(strings = {"garbage", "localhost", "1.2.3", "fe80::1%eth0"})
    void unparseablePeerResolvesToTheUnknownKey(String peer) {
        assertThat(resolver.resolve(peer, List.of(CLIENT))).isEqualTo(ClientIdentityResolver.UNKNOWN_PEER);
    }

    @Test
    void outputIsAlwaysCanonical() {
        assertThat(resolve("2001:DB8:0:0:0:0:0:1")).isEqualTo("2001:db8::1");
        assertThat(resolve(" 198.51.100.2 ")).isEqualTo(UNTRUSTED_PEER);
        assertThat(resolve("0:0:0:0:0:0:0:1")).isEqualTo("::1");
        assertThat(resolve(PROXY, " 203.0.113.7:4711 ")).isEqualTo(CLIENT);
        assertThat(resolve(PROXY, "2001:0DB8:0000::0007")).isEqualTo("2001:db8::7");
        // a leading zero is ambiguous (octal to some stacks), so such an entry is skipped as garbage
        assertThat(resolve(PROXY, "203.0.113.7, 203.0.113.08")).isEqualTo(CLIENT);
    }

    @Test
    void withoutTrustedProxiesForwardedForIsNeverBelieved() {
        ClientIdentityResolver none = new ClientIdentityResolver(List.of());

        assertThat(none.resolve("127.0.0.1", List.of(CLIENT))).isEqualTo("127.0.0.1");
        assertThat(none.resolve(PROXY, List.of(CLIENT))).isEqualTo(PROXY);
    }

    @Test
    void isTrustedMatchesTheConfiguredBlocks() {
        assertThat(resolver.isTrusted(IpAddresses.parse("127.8.9.10").orElseThrow())).isTrue();
        assertThat(resolver.isTrusted(IpAddresses.parse("::1").orElseThrow())).isTrue();
        assertThat(resolver.isTrusted(IpAddresses.parse("10.20.30.40").orElseThrow())).isTrue();
        assertThat(resolver.isTrusted(IpAddresses.parse("::2").orElseThrow())).isFalse();
        assertThat(resolver.isTrusted(IpAddresses.parse(CLIENT).orElseThrow())).isFalse();
        assertThat(resolver.trustedProxies()).extracting(Cidr::toString)
                .containsExactly("127.0.0.0/8", "::1/128", "10.0.0.0/8");
    }
}

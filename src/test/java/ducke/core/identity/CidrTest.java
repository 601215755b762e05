package ducke.core.identity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetAddress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CidrTest {

    private static InetAddress ip(String text) {
        return IpAddresses.parse(text).orElseThrow(() -> new AssertionError("test address " + text));
    }

    @Test
    void ipv4BlockContainsItsAddressesOnly() {
        Cidr block = Cidr.parse("10.0.0.0/8");

        assertThat(block.contains(ip("10.0.0.0"))).isTrue();
        assertThat(block.contains(ip("10.0.0.1"))).isTrue();
        assertThat(block.contains(ip("10.255.255.255"))).isTrue();
        assertThat(block.contains(ip("11.0.0.0"))).isFalse();
        assertThat(block.contains(ip("9.255.255.255"))).isFalse();
        assertThat(block.toString()).isEqualTo("10.0.0.0/8");
    }

    @Test
    void prefixesOffOctetBoundariesAreExact() {
        Cidr twelve = Cidr.parse("172.16.0.0/12");
        Cidr thirtyOne = Cidr.parse("10.0.0.0/31");

        assertThat(twelve.contains(ip("172.31.255.255"))).isTrue();
        assertThat(twelve.contains(ip("172.32.0.0"))).isFalse();
        assertThat(twelve.contains(ip("172.15.255.255"))).isFalse();
        assertThat(thirtyOne.contains(ip("10.0.0.1"))).isTrue();
        assertThat(thirtyOne.contains(ip("10.0.0.2"))).isFalse();
    }

    @Test
    void bareIpv4AddressIsAHostBlock() {
        Cidr host = Cidr.parse("127.0.0.1");

        assertThat(host.contains(ip("127.0.0.1"))).isTrue();
        assertThat(host.contains(ip("127.0.0.2"))).isFalse();
        assertThat(host.toString()).isEqualTo("127.0.0.1/32");
    }

    @Test
    void ipv6HostBlockContainsOnlyThatAddress() {
        Cidr loopback = Cidr.parse("::1/128");

        assertThat(loopback.contains(ip("::1"))).isTrue();
        assertThat(loopback.contains(ip("0:0:0:0:0:0:0:1"))).isTrue();
        assertThat(loopback.contains(ip("::2"))).isFalse();
        assertThat(loopback.contains(ip("::"))).isFalse();
        assertThat(Cidr.parse("::1").toString()).isEqualTo("::1/128");
    }

    @Test
    void ipv6BlockContainsItsAddressesOnly() {
        Cidr uniqueLocal = Cidr.parse("fc00::/7");

        assertThat(uniqueLocal.contains(ip("fc00::"))).isTrue();
        assertThat(uniqueLocal.contains(ip("fd12:3456:789a::1"))).isTrue();
        assertThat(uniqueLocal.contains(ip("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))).isTrue();
        assertThat(uniqueLocal.contains(ip("fe00::1"))).isFalse();
        assertThat(uniqueLocal.contains(ip("fbff:ffff::1"))).isFalse();
        assertThat(uniqueLocal.contains(ip("2001:db8::1"))).isFalse();
    }

    @Test
    void zeroPrefixMatchesEveryAddressOfItsFamily() {
        Cidr allV4 = Cidr.parse("0.0.0.0/0");
        Cidr allV6 = Cidr.parse("::/0");

        assertThat(allV4.contains(ip("1.2.3.4"))).isTrue();
        assertThat(allV4.contains(ip("255.255.255.255"))).isTrue();
        assertThat(allV6.contains(ip("2001:db8::1"))).isTrue();
        assertThat(allV6.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))).isTrue();
    }

    @Test
    void ipv4AddressIsNeverInsideAnIpv6BlockAndViceVersa() {
        assertThat(Cidr.parse("::/0").contains(ip("1.2.3.4"))).isFalse();
        assertThat(Cidr.parse("::/0").contains(ip("10.0.0.1"))).isFalse();
        assertThat(Cidr.parse("0.0.0.0/0").contains(ip("::1"))).isFalse();
        assertThat(Cidr.parse("0.0.0.0/0").contains(ip("2001:db8::1"))).isFalse();
        assertThat(Cidr.parse("10.0.0.0/8").contains(ip("a00::1"))).isFalse();
    }

    @Test
    void ipv4MappedAddressIsMatchedAsIpv4() {
        assertThat(Cidr.parse("10.0.0.0/8").contains(ip("::ffff:10.1.2.3"))).isTrue();
        assertThat(Cidr.parse("::ffff:10.0.0.1").toString()).isEqualTo("10.0.0.1/32");
    }

    @Test
    void hostBitsOfTheNetworkAreMasked() {
        Cidr block = Cidr.parse("10.1.2.3/8");

        assertThat(block.contains(ip("10.200.0.1"))).isTrue();
        assertThat(block.contains(ip("11.1.2.3"))).isFalse();
        assertThat(Cidr.parse("192.168.1.77/24").contains(ip("192.168.1.1"))).isTrue();
        assertThat(Cidr.parse("192.168.1.77/24").contains(ip("192.168.2.77"))).isFalse();
        assertThat(Cidr.parse("2001:db8::ffff/32").contains(ip("2001:db8:1234::1"))).isTrue();
    }

    @Test
    void describesItselfCanonically() {
        assertThat(Cidr.parse("2001:DB8:0:0::/32").toString()).isEqualTo("2001:db8::/32");
        assertThat(Cidr.parse("  10.0.0.0/8 ").toString()).isEqualTo("10.0.0.0/8");
    }

    @ParameterizedTest(name = "rejects ''{0}''")
    @NullAndEmptySource
    @ValueSource(strings = {
            " ",
            "10.0.0.0/33",
            "10.0.0.1:8080",
            "[::1]",
            "[::1]/128",
            "::/129",
            "10.0.0.0/-1",
            "10.0.0.0/",
            "10.0.0.0/a",
            "10.0.0.0/8/8",
            "10.0.0.0/1000",
            "10.0.0.0/ 8",
            "/8",
            "abc/8",
            "localhost/8",
            "10.0.0/8",
            "256.0.0.0/8",
            "fe80::%eth0/64",
            "abc",
    })
    void rejectsInvalidBlocks(String text) {
        assertThatThrownBy(() -> Cidr.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }
}

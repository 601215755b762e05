package ducke.core.identity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class IpAddressesTest {

    @ParameterizedTest(name = "''{0}'' -> {1}")
    @CsvSource(delimiter = '|', value = {
            "1.2.3.4           | 1.2.3.4",
            "0.0.0.0           | 0.0.0.0",
            "255.255.255.255   | 255.255.255.255",
            "203.0.113.7       | 203.0.113.7",
            "'  1.2.3.4  '     | 1.2.3.4",
            "1.2.3.4:8080      | 1.2.3.4",
            "1.2.3.4:0         | 1.2.3.4",
    })
    void parsesIpv4Literals(String text, String canonical) {
        Optional<InetAddress> parsed = IpAddresses.parse(text);

        assertThat(parsed).containsInstanceOf(Inet4Address.class);
        assertThat(IpAddresses.canonical(parsed.get())).isEqualTo(canonical);
        assertThat(IpAddresses.canonical(text)).contains(canonical);
    }

    @ParameterizedTest(name = "''{0}'' -> {1}")
    @CsvSource(delimiter = '|', value = {
            "::1                     | ::1",
            "2001:db8::1             | 2001:db8::1",
            "[2001:db8::1]:443       | 2001:db8::1",
            "[2001:db8::1]           | 2001:db8::1",
            "[::1]:8080              | ::1",
            "2001:DB8:0:0:0:0:0:1    | 2001:db8::1",
            "'  2001:db8::1 '        | 2001:db8::1",
            "fe80::1                 | fe80::1",
            "::                      | ::",
    })
    void parsesIpv6Literals(String text, String canonical) {
        Optional<InetAddress> parsed = IpAddresses.parse(text);

        assertThat(parsed).containsInstanceOf(Inet6Address.class);
        assertThat(IpAddresses.canonical(text)).contains(canonical);
    }

    @ParameterizedTest(name = "''{0}'' -> {1}")
    @CsvSource(delimiter = '|', value = {
            "::ffff:1.2.3.4          | 1.2.3.4",
            "::FFFF:10.0.0.1         | 10.0.0.1",
            "[::ffff:203.0.113.7]:80 | 203.0.113.7",
            "::ffff:c000:280         | 192.0.2.128",
    })
    void ipv4MappedIpv6BecomesIpv4(String text, String canonical) {
        Optional<InetAddress> parsed = IpAddresses.parse(text);

        assertThat(parsed).containsInstanceOf(Inet4Address.class);
        assertThat(IpAddresses.canonical(text)).contains(canonical);
    }

    @ParameterizedTest(name = "rejects ''{0}''")
    @NullAndEmptySource
    @ValueSource(strings = {
            " ",
            "\t",
            "1.2.3",
            "256.1.1.1",
            "1.256.1.1",
            "1.2.3.256",
            "01.2.3.4444",
            "010.0.0.1",
            "10.0.0.01",
            "1.2.3.4:99999",
            "1.2.3.4:65536",
            "[::1]:70000",
            "1.2.3.4.5",
            "1..3.4",
            ".1.2.3",
            "1.2.3.",
            "1.2.3.-4",
            "1.2.3.+4",
            "0x1.2.3.4",
            "1.2.3.4 5",
            "1.2.3.4/24",
            "1.2.3.4:",
            "1.2.3.4:http",
            "1.2.3.4:123456",
            ":8080",
            "abc",
            "evil.com",
            "localhost",
            "localhost:8080",
            "example.com:80",
            "www.example.com",
            "unknown",
            "_hidden",
            "1.2.3.4, 5.6.7.8",
            "1.2.3.4,5.6.7.8",
            "::1, ::2",
            "fe80::1%eth0",
            "fe80::1%1",
            "[fe80::1%eth0]",
            "[fe80::1%eth0]:443",
            "[::1",
            "::1]",
            "[::1]x",
            "[::1]:",
            "[::1]:http",
            "[]",
            "[1.2.3.4]",
            "[localhost]",
            "[1.2.3.4]:80",
            "::g",
            ":::",
            "1:2:3:4:5:6:7:8:9",
            "2001:db8::1::2",
            "12345::1",
            "::ffff:1.2.3.4:80",
            "::ffff:256.1.1.1",
            "1.2.3.4::",
    })
    void rejectsAnythingThatIsNotAnAddressLiteral(String text) {
        assertThat(IpAddresses.parse(text)).isEmpty();
        assertThat(IpAddresses.canonical(text)).isEmpty();
    }

    @Test
    void rejectsVeryLongStrings() {
        assertThat(IpAddresses.parse("1".repeat(10_000))).isEmpty();
        assertThat(IpAddresses.parse("1.2.3.4" + ":1".repeat(100))).isEmpty();
        assertThat(IpAddresses.parse("0000:".repeat(20) + "1")).isEmpty();
        assertThat(IpAddresses.parse("a".repeat(70) + ".example.com")).isEmpty();
    }

    @Test
    void neverResolvesNames() {
        // a resolver would turn these into loopback or a real address; a strict literal parser cannot
        assertThat(IpAddresses.parse("localhost")).isEmpty();
        assertThat(IpAddresses.parse("[localhost]")).isEmpty();
        assertThat(IpAddresses.parse("ip6-localhost")).isEmpty();
        assertThat(IpAddresses.parse("dead.beef")).isEmpty();
        assertThat(IpAddresses.parse("cafe")).isEmpty();
        assertThat(IpAddresses.parse("127.1")).isEmpty();
        assertThat(IpAddresses.parse("2130706433")).isEmpty();
    }

    @ParameterizedTest(name = "''{0}'' -> {1}")
    @CsvSource(delimiter = '|', value = {
            // leading zeros dropped, longest zero run compressed, lower case
            "2001:0db8:0000:0000:0000:0000:0000:0001 | 2001:db8::1",
            "ABCD:EF01:2345:6789:ABCD:EF01:2345:6789 | abcd:ef01:2345:6789:abcd:ef01:2345:6789",
            "2001:DB8::A:B                           | 2001:db8::a:b",
            // a single zero group is never compressed
            "2001:db8:0:1:1:1:1:1                    | 2001:db8:0:1:1:1:1:1",
            "1:0:2:0:3:0:4:0                         | 1:0:2:0:3:0:4:0",
            "1:2:3:4:5:6:7:0                         | 1:2:3:4:5:6:7:0",
            "0:2:3:4:5:6:7:8                         | 0:2:3:4:5:6:7:8",
            // the first run wins a tie
            "2001:db8:0:0:1:0:0:1                    | 2001:db8::1:0:0:1",
            "0:0:1:0:0:1:0:0                         | ::1:0:0:1:0:0",
            // the longest run wins wherever it is
            "2001:0:0:1:0:0:0:1                      | 2001:0:0:1::1",
            "1:0:0:2:0:0:0:0                         | 1:0:0:2::",
            // runs at either end
            "0:0:0:0:0:0:0:1                         | ::1",
            "1:0:0:0:0:0:0:0                         | 1::",
            "0:0:0:0:0:0:0:0                         | ::",
            "0:0:1:2:3:4:5:6                         | ::1:2:3:4:5:6",
            "1:2:3:4:5:6:0:0                         | 1:2:3:4:5:6::",
            "fe80:0:0:0:200:5efe:0:1                 | fe80::200:5efe:0:1",
    })
    void canonicalIpv6FollowsRfc5952(String text, String canonical) {
        assertThat(IpAddresses.canonical(text)).contains(canonical);
    }

    @Test
    void canonicalFormOfAnAddressObjectIgnoresHowItWasWritten() throws Exception {
        byte[] bytes = new byte[16];
        bytes[0] = 0x20;
        bytes[1] = 0x01;
        bytes[2] = 0x0d;
        bytes[3] = (byte) 0xb8;
        bytes[15] = 1;

        assertThat(IpAddresses.canonical(InetAddress.getByAddress(bytes))).isEqualTo("2001:db8::1");
        assertThat(IpAddresses.canonical(InetAddress.getByAddress(new byte[]{10, 0, 0, 1}))).isEqualTo("10.0.0.1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"2001:DB8:0:0:1:0:0:1", "[::FFFF:1.2.3.4]:80", " 10.0.0.1:9 ", "0:0:0:0:0:0:0:0", "fe80::0:1"})
    void canonicalFormParsesBackToItself(String text) {
        String canonical = IpAddresses.canonical(text).orElseThrow();

        assertThat(IpAddresses.canonical(canonical)).contains(canonical);
        assertThat(IpAddresses.parse(canonical)).isEqualTo(IpAddresses.parse(text));
    }
}

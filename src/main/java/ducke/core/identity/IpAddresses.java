package ducke.core.identity;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * Strict parsing of IP address literals. Never resolves names: anything that is not a literal is
 * rejected, so header garbage cannot trigger DNS lookups or become a client key.
 */
public final class IpAddresses {

    private static final int MAX_LENGTH = 64;

    private IpAddresses() {
    }

    /**
     * Parses an IPv4 or IPv6 literal, tolerating surrounding spaces, {@code [v6]} brackets and a
     * port ({@code 1.2.3.4:5678}, {@code [::1]:443}). IPv4-mapped IPv6 addresses become IPv4.
     */
    public static Optional<InetAddress> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        String s = text.strip();
        if (s.isEmpty() || s.length() > MAX_LENGTH) {
            return Optional.empty();
        }
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                return Optional.empty();
            }
            String rest = s.substring(close + 1);
            if (!rest.isEmpty() && !(rest.startsWith(":") && validPort(rest.substring(1)))) {
                return Optional.empty();
            }
            return parseV6(s.substring(1, close));
        }
        int colons = s.length() - s.replace(":", "").length();
        if (colons == 0) {
            return parseV4(s);
        }
        if (colons == 1) {
            String host = s.substring(0, s.indexOf(':'));
            String port = s.substring(s.indexOf(':') + 1);
            return validPort(port) ? parseV4(host) : Optional.empty();
        }
        return parseV6(s);
    }

    /** The canonical text of an address: dotted quad, or RFC 5952 compressed lower-case IPv6. */
    public static String canonical(InetAddress address) {
        if (address instanceof Inet4Address) {
            return address.getHostAddress();
        }
        byte[] b = address.getAddress();
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLen - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        return out.toString();
    }

    /** Parses and canonicalises; empty for anything that is not an address literal. */
    public static Optional<String> canonical(String text) {
        return parse(text).map(IpAddresses::canonical);
    }

    private static boolean validPort(String port) {
        return port.matches("\\d{1,5}") && Integer.parseInt(port) <= 65535;
    }

    private static Optional<InetAddress> parseV4(String s) {
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) {
            return Optional.empty();
        }
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            String p = parts[i];
            // leading zeros are refused: some stacks read them as octal
            if (p.isEmpty() || p.length() > 3 || (p.length() > 1 && p.charAt(0) == '0')
                    || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return Optional.empty();
            }
            int v = Integer.parseInt(p);
            if (v > 255) {
                return Optional.empty();
            }
            bytes[i] = (byte) v;
        }
        try {
            return Optional.of(InetAddress.getByAddress(bytes));
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    private static Optional<InetAddress> parseV6(String s) {
        if (s.isEmpty() || !s.contains(":")
                || !s.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.')) {
            return Optional.empty();
        }
        try {
            // the brackets make the JDK treat it strictly as an IPv6 literal: no name lookup
            InetAddress a = InetAddress.getByName("[" + s + "]");
            return (a instanceof Inet6Address || a instanceof Inet4Address) ? Optional.of(a) : Optional.empty();
        } catch (UnknownHostException | RuntimeException e) {
            return Optional.empty();
        }
    }
}

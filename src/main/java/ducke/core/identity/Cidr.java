package ducke.core.identity;

import java.net.InetAddress;
import java.util.Arrays;

/** An address block such as {@code 10.0.0.0/8} or {@code fd00::/8}; a bare address is a /32 or /128. */
public final class Cidr {

    private final byte[] network;
    private final int prefixLength;
    private final String text;

    private Cidr(byte[] network, int prefixLength, String text) {
        this.network = network;
        this.prefixLength = prefixLength;
        this.text = text;
    }

    public static Cidr parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty address block");
        }
        String s = text.strip();
        int slash = s.indexOf('/');
        String addressPart = slash < 0 ? s : s.substring(0, slash);
        if (addressPart.contains("[") || addressPart.chars().filter(c -> c == ':').count() == 1) {
            throw new IllegalArgumentException("'" + s + "' is not an IP address or CIDR block (no ports or brackets)");
        }
        InetAddress address = IpAddresses.parse(addressPart)
                .orElseThrow(() -> new IllegalArgumentException("'" + s + "' is not an IP address or CIDR block"));
        int bits = address.getAddress().length * 8;
        int prefix = bits;
        if (slash >= 0) {
            String p = s.substring(slash + 1);
            if (!p.matches("\\d{1,3}") || Integer.parseInt(p) > bits) {
                throw new IllegalArgumentException("'" + s + "' has an invalid prefix length (0-" + bits + ")");
            }
            prefix = Integer.parseInt(p);
        }
        return new Cidr(mask(address.getAddress(), prefix), prefix, IpAddresses.canonical(address) + "/" + prefix);
    }

    /** The block of {@code prefixLength} bits that holds {@code address}. */
    public static Cidr network(InetAddress address, int prefixLength) {
        int bits = address.getAddress().length * 8;
        if (prefixLength < 0 || prefixLength > bits) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " out of 0-" + bits);
        }
        byte[] network = mask(address.getAddress(), prefixLength);
        InetAddress base;
        try {
            base = InetAddress.getByAddress(network);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
        return new Cidr(network, prefixLength, IpAddresses.canonical(base) + "/" + prefixLength);
    }

    /** The block's first address. */
    public InetAddress address() {
        try {
            return InetAddress.getByAddress(network.clone());
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        return a.length == network.length && Arrays.equals(mask(a, prefixLength), network);
    }

    private static byte[] mask(byte[] address, int prefix) {
        byte[] out = address.clone();
        for (int i = 0; i < out.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - 8 * i));
            out[i] &= (byte) (0xff << (8 - keep));
        }
        return out;
    }

    @Override
    public String toString() {
        return text;
    }
}

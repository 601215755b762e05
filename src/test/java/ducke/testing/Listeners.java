package ducke.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The kernel's table of listening TCP sockets (what {@code ss -ltn} prints), read from /proc/net. */
public final class Listeners {

    private static final String LISTEN = "0A";

    private Listeners() {
    }

    /** Local addresses (kernel hex form) of the sockets listening on {@code port}, IPv4 and IPv6. */
    public static List<String> on(int port) {
        List<String> found = new ArrayList<>();
        String hexPort = String.format(Locale.ROOT, "%04X", port);
        for (String table : new String[]{"/proc/net/tcp", "/proc/net/tcp6"}) {
            Path p = Path.of(table);
            if (!Files.exists(p)) {
                continue;
            }
            try {
                for (String line : Files.readAllLines(p)) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 3 && f[3].equals(LISTEN) && f[1].endsWith(":" + hexPort)) {
                        found.add(f[1].substring(0, f[1].indexOf(':')));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return found;
    }

    /** Whether a kernel-form address is the wildcard (0.0.0.0 or ::). */
    public static boolean isWildcard(String hexAddress) {
        return hexAddress.chars().allMatch(c -> c == '0');
    }
}

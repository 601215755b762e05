package ducke.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free TCP ports for servers started by tests, chosen below the kernel's ephemeral range: a port
 * picked in advance from that range can be taken, before the server binds it, by the local end of
 * an outgoing connection (seen: a grid member's connection took a node's HTTP port).
 */
public final class FreePorts {

    private static final int LOWEST = 20_000;

    private FreePorts() {
    }

    public static int next() {
        return distinct(1)[0];
    }

    /** {@code count} distinct ports, each free on every address when chosen. */
    public static int[] distinct(int count) {
        int highest = ephemeralLow() - 1;
        List<Integer> chosen = new ArrayList<>();
        while (chosen.size() < count) {
            int p = ThreadLocalRandom.current().nextInt(LOWEST, highest + 1);
            if (!chosen.contains(p) && bindable(p)) {
                chosen.add(p);
            }
        }
        return chosen.stream().mapToInt(Integer::intValue).toArray();
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket(port)) {
            s.setReuseAddress(true);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The first port of the ephemeral range (Linux: /proc/sys/net/ipv4/ip_local_port_range), 32768 elsewhere. */
    private static int ephemeralLow() {
        try {
            String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
            int low = Integer.parseInt(range.split("\\s+")[0]);
            return low > LOWEST + 1000 ? low : 32_768;
        } catch (IOException | RuntimeException e) {
            return 32_768;
        }
    }
}

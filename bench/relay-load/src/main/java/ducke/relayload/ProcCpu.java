package ducke.relayload;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * CPU time of processes and of the machine, from Linux's {@code /proc}.
 *
 * <p>A process's CPU time is {@code utime + stime} of {@code /proc/<pid>/stat} (fields 14 and 15,
 * in clock ticks of {@code getconf CLK_TCK}, usually 100 per second): the time all its threads have
 * spent in user and kernel mode, not counting children. The machine's busy share is read from the
 * {@code cpu} line of {@code /proc/stat}.
 */
final class ProcCpu {

    /** Clock ticks per second of {@code /proc} CPU times ({@code getconf CLK_TCK}; 100 if that fails). */
    static final long TICKS_PER_SECOND = clockTicks();

    private ProcCpu() {
    }

    /** {@code utime + stime} of one process in clock ticks, or -1 when it is gone or unreadable. */
    static long ticks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
            // the command name (field 2) is in parentheses and may hold spaces; count fields after its ')'
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15 of proc(5)
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The sum of {@link #ticks} over several processes, or -1 when any of them is unreadable. */
    static long ticks(Collection<Long> pids) {
        long sum = 0;
        for (long pid : pids) {
            long t = ticks(pid);
            if (t < 0) {
                return -1;
            }
            sum += t;
        }
        return sum;
    }

    static long ticksToNanos(long ticks) {
        return ticks < 0 ? -1 : ticks * TimeUnit.SECONDS.toNanos(1) / TICKS_PER_SECOND;
    }

    /** The {@code cpu} line of {@code /proc/stat}: {busy, total} jiffies summed over all CPUs, or null. */
    static long[] machine() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/stat"), StandardCharsets.US_ASCII)) {
                if (line.startsWith("cpu ")) {
                    String[] f = line.substring(4).trim().split("\\s+");
                    long total = 0;
                    // user nice system idle iowait irq softirq steal (guest time is already in user/nice)
                    for (int i = 0; i < Math.min(8, f.length); i++) {
                        total += Long.parseLong(f[i]);
                    }
                    long idle = Long.parseLong(f[3]) + (f.length > 4 ? Long.parseLong(f[4]) : 0);
                    return new long[] {total - idle, total};
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return null;
    }

    /** How busy the machine was just before a phase: busy share over the window, after waiting {@code waited} s. */
    record Load(double busyPercent, int windowSeconds, long waitedSeconds, double limitPercent) {
        boolean quiet() {
            return !Double.isNaN(busyPercent) && busyPercent < limitPercent;
        }

        /** For the table: "7 % busy" or "63 % busy, NOT QUIET". */
        String brief() {
            return Double.isNaN(busyPercent) ? "load unknown"
                    : String.format(Locale.ROOT, "%.0f %% busy%s", busyPercent, quiet() ? "" : ", NOT QUIET");
        }

        @Override
        public String toString() {
            if (Double.isNaN(busyPercent)) {
                return "machine load unknown (no /proc/stat)";
            }
            return quiet()
                    ? String.format(Locale.ROOT, "machine %.0f %% busy over %d s (waited %d s for < %.0f %%)",
                            busyPercent, windowSeconds, waitedSeconds, limitPercent)
                    : String.format(Locale.ROOT, "machine still %.0f %% busy over %d s after waiting %d s for < %.0f %%;"
                            + " measuring anyway (NOT QUIET)", busyPercent, windowSeconds, waitedSeconds, limitPercent);
        }
    }

    /**
     * Waits until the machine is less than {@code busyPercent} busy over a window of {@code windowSeconds},
     * for at most {@code maxWaitSeconds} (0: measure one window, do not wait longer). The caller measures
     * either way; the result says how busy the machine was.
     */
    static Load awaitIdle(double busyPercent, int windowSeconds, int maxWaitSeconds) throws InterruptedException {
        int window = Math.max(1, windowSeconds);
        long start = System.nanoTime();
        while (true) {
            long[] a = machine();
            Thread.sleep(TimeUnit.SECONDS.toMillis(window));
            long[] b = machine();
            long waited = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
            if (a == null || b == null || b[1] == a[1]) {
                return new Load(Double.NaN, window, waited, busyPercent);
            }
            Load load = new Load(100.0 * (b[0] - a[0]) / (b[1] - a[1]), window, waited, busyPercent);
            if (load.quiet() || waited >= maxWaitSeconds) {
                return load;
            }
        }
    }

    private static long clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0) {
                long t = Long.parseLong(out);
                if (t > 0) {
                    return t;
                }
            }
        } catch (Exception e) {
            // fall through
        }
        return 100;
    }
}

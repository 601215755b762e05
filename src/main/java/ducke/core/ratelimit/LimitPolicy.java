package ducke.core.ratelimit;

import java.util.List;
import java.util.stream.Collectors;

/** One or more bandwidths applied together: a request passes only if every bandwidth has a token. */
public record LimitPolicy(List<Bandwidth> bandwidths) {

    /** Most bandwidths one policy may hold; each costs a little state per client. */
    public static final int MAX_BANDWIDTHS = 8;

    public LimitPolicy {
        if (bandwidths == null || bandwidths.isEmpty()) {
            throw new IllegalArgumentException("a limit needs at least one bandwidth");
        }
        if (bandwidths.size() > MAX_BANDWIDTHS) {
            throw new IllegalArgumentException("at most " + MAX_BANDWIDTHS + " limits may be joined, got " + bandwidths.size());
        }
        bandwidths = List.copyOf(bandwidths);
    }

    public static LimitPolicy of(Bandwidth... bandwidths) {
        return new LimitPolicy(List.of(bandwidths));
    }

    public int size() {
        return bandwidths.size();
    }

    public Bandwidth get(int i) {
        return bandwidths.get(i);
    }

    /** e.g. {@code "5 per 1 minute; 100 per 1 day"}. */
    public String describe() {
        return bandwidths.stream().map(Bandwidth::describe).collect(Collectors.joining("; "));
    }

    /** The IETF {@code RateLimit-Policy} value, e.g. {@code "5;w=60, 100;w=86400"}. */
    public String policyHeader() {
        return bandwidths.stream()
                .map(b -> b.capacity() + ";w=" + b.windowSeconds())
                .collect(Collectors.joining(", "));
    }
}

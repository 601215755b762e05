package ducke.core.cost;

import java.util.Arrays;

/** Token counts by {@link TokenKind}; immutable. */
public final class TokenCounts {

    public static final TokenCounts ZERO = new TokenCounts(new long[TokenKind.values().length]);

    private final long[] counts;

    private TokenCounts(long[] counts) {
        this.counts = counts;
    }

    public static TokenCounts of(long textInput, long audioInput, long cachedInput, long textOutput, long audioOutput) {
        long[] c = {textInput, audioInput, cachedInput, textOutput, audioOutput};
        for (long v : c) {
            if (v < 0) {
                throw new IllegalArgumentException("token counts cannot be negative");
            }
        }
        return new TokenCounts(c);
    }

    public long get(TokenKind kind) {
        return counts[kind.ordinal()];
    }

    public long input() {
        return get(TokenKind.TEXT_INPUT) + get(TokenKind.AUDIO_INPUT) + get(TokenKind.CACHED_INPUT);
    }

    public long output() {
        return get(TokenKind.TEXT_OUTPUT) + get(TokenKind.AUDIO_OUTPUT);
    }

    public TokenCounts plus(TokenCounts other) {
        long[] c = new long[counts.length];
        for (int i = 0; i < c.length; i++) {
            c[i] = Math.addExact(counts[i], other.counts[i]);
        }
        return new TokenCounts(c);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenCounts t && Arrays.equals(counts, t.counts);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(counts);
    }

    @Override
    public String toString() {
        return "TokenCounts" + Arrays.toString(counts);
    }
}

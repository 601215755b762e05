package ducke.core.cost;

/**
 * Prices of one model in nano-USD per one million tokens. The realtime split ({@code textInput},
 * {@code audioInput}, {@code cachedInput}, {@code textOutput}, {@code audioOutput}) is optional:
 * a null part falls back to {@code input} or {@code output}, so a missing price is never cheaper.
 */
public record ModelPrice(String model, long input, long output, Long cachedInput, Long textInput, Long audioInput,
                         Long textOutput, Long audioOutput) {

    public ModelPrice {
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("a priced model needs a name");
        }
        model = PriceTable.normalise(model);
        requireRate("input", input);
        requireRate("output", output);
        for (Long r : new Long[]{cachedInput, textInput, audioInput, textOutput, audioOutput}) {
            if (r != null) {
                requireRate("split", r);
            }
        }
    }

    public static ModelPrice simple(String model, long inputPerMillion, long outputPerMillion) {
        return new ModelPrice(model, inputPerMillion, outputPerMillion, null, null, null, null, null);
    }

    public long rate(TokenKind kind) {
        return switch (kind) {
            case TEXT_INPUT -> textInput != null ? textInput : input;
            case AUDIO_INPUT -> audioInput != null ? audioInput : input;
            case CACHED_INPUT -> cachedInput != null ? cachedInput : input;
            case TEXT_OUTPUT -> textOutput != null ? textOutput : output;
            case AUDIO_OUTPUT -> audioOutput != null ? audioOutput : output;
        };
    }

    /** Per-kind maximum of several prices: what an unknown model is charged. */
    static ModelPrice mostExpensive(String name, Iterable<ModelPrice> prices) {
        long in = 0;
        long out = 0;
        long[] split = new long[TokenKind.values().length];
        for (ModelPrice p : prices) {
            in = Math.max(in, p.input);
            out = Math.max(out, p.output);
            for (TokenKind k : TokenKind.values()) {
                split[k.ordinal()] = Math.max(split[k.ordinal()], p.rate(k));
            }
        }
        return new ModelPrice(name, in, out, split[TokenKind.CACHED_INPUT.ordinal()], split[TokenKind.TEXT_INPUT.ordinal()],
                split[TokenKind.AUDIO_INPUT.ordinal()], split[TokenKind.TEXT_OUTPUT.ordinal()],
                split[TokenKind.AUDIO_OUTPUT.ordinal()]);
    }

    /** The most one input token of this model can cost, per million (the dearest input kind). */
    public long maxInputRate() {
        return Math.max(Math.max(rate(TokenKind.TEXT_INPUT), rate(TokenKind.AUDIO_INPUT)), Math.max(input, rate(TokenKind.CACHED_INPUT)));
    }

    /** The most one output token of this model can cost, per million (the dearest output kind). */
    public long maxOutputRate() {
        return Math.max(output, Math.max(rate(TokenKind.TEXT_OUTPUT), rate(TokenKind.AUDIO_OUTPUT)));
    }

    /** The most any single token of this model can cost, per million. */
    long maxRate() {
        long max = 0;
        for (TokenKind k : TokenKind.values()) {
            max = Math.max(max, rate(k));
        }
        return max;
    }

    private static void requireRate(String what, long nanoPerMillion) {
        if (nanoPerMillion < 0 || nanoPerMillion > PriceTable.MAX_RATE_NANO_PER_MILLION) {
            throw new IllegalArgumentException(what + " price out of range: " + Money.usd(nanoPerMillion) + " USD per 1M tokens");
        }
    }
}

package ducke.core.cost;

/**
 * One usage report as the provider sends it: totals, and optionally the details of a realtime
 * {@code response.usage}. Null detail fields were not reported. Validated on construction.
 */
public record TokenUsage(long inputTokens, long outputTokens, Long textInput, Long audioInput, Long cachedInput,
                         Long cachedAudioInput, Long textOutput, Long audioOutput) {

    /** More tokens than any single report can honestly carry: refused as absurd. */
    public static final long MAX_TOKENS_PER_REPORT = 10_000_000L;

    public TokenUsage {
        check("input_tokens", inputTokens);
        check("output_tokens", outputTokens);
        for (Long v : new Long[]{textInput, audioInput, cachedInput, cachedAudioInput, textOutput, audioOutput}) {
            if (v != null) {
                check("token detail", v);
            }
        }
        if (cachedInput != null && cachedInput > Math.max(inputTokens, nz(textInput) + nz(audioInput))) {
            throw new IllegalArgumentException("cached tokens (" + cachedInput + ") cannot exceed input tokens");
        }
        if (cachedAudioInput != null && cachedAudioInput > nz(cachedInput)) {
            throw new IllegalArgumentException("cached audio tokens cannot exceed cached tokens");
        }
    }

    public static TokenUsage totals(long inputTokens, long outputTokens) {
        return new TokenUsage(inputTokens, outputTokens, null, null, null, null, null, null);
    }

    /**
     * Splits the report into disjoint kinds. A side without details counts as text (and is priced at
     * the plain rate). Inconsistent totals are charged at the larger figure; tokens of a detailed side
     * whose kind is unknown count as the dearer kind, and cached tokens without their own
     * split come out of text first (the cheaper assumption for us, never for the payer of the bill).
     */
    public TokenCounts split(ModelPrice price) {
        long text = nz(textInput);
        long audio = nz(audioInput);
        long inTotal = Math.max(inputTokens, text + audio);
        long unknownIn = inTotal - text - audio;
        if (!inputDetailed()) {
            text += unknownIn;
        } else if (unknownIn > 0) {
            if (price.rate(TokenKind.AUDIO_INPUT) > price.rate(TokenKind.TEXT_INPUT)) {
                audio += unknownIn;
            } else {
                text += unknownIn;
            }
        }
        long cached = Math.min(nz(cachedInput), inTotal);
        long cachedAudio = cachedAudioInput != null ? Math.min(cachedAudioInput, audio) : Math.max(0, cached - text);
        long cachedText = Math.min(cached - cachedAudio, text);
        cached = cachedText + cachedAudio;

        long textOut = nz(textOutput);
        long audioOut = nz(audioOutput);
        long unknownOut = Math.max(outputTokens, textOut + audioOut) - textOut - audioOut;
        if (!outputDetailed()) {
            textOut += unknownOut;
        } else if (unknownOut > 0) {
            if (price.rate(TokenKind.AUDIO_OUTPUT) > price.rate(TokenKind.TEXT_OUTPUT)) {
                audioOut += unknownOut;
            } else {
                textOut += unknownOut;
            }
        }
        return TokenCounts.of(text - cachedText, audio - cachedAudio, cached, textOut, audioOut);
    }

    /** Whether the report splits its input into text and audio; if not, plain input rates apply. */
    public boolean inputDetailed() {
        return textInput != null || audioInput != null;
    }

    /** Whether the report splits its output into text and audio; if not, plain output rates apply. */
    public boolean outputDetailed() {
        return textOutput != null || audioOutput != null;
    }

    private static long nz(Long v) {
        return v == null ? 0 : v;
    }

    private static void check(String name, long v) {
        if (v < 0) {
            throw new IllegalArgumentException(name + " cannot be negative");
        }
        if (v > MAX_TOKENS_PER_REPORT) {
            throw new IllegalArgumentException(name + " of " + v + " is not plausible (at most " + MAX_TOKENS_PER_REPORT + " per report)");
        }
    }
}

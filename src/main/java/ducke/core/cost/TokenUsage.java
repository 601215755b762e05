package ducke.core.cost;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * One usage report as the provider sends it: token totals, optionally the details of a realtime
 * {@code response.usage}, or, for duration-billed transcription ({@code "type": "duration"}), the
 * length of the audio. Null detail fields were not reported; {@code durationMillis} is null for a
 * token report. Validated on construction: no negative count, and no more than
 * {@link #MAX_TOKENS_PER_REPORT} tokens in all, counting every field.
 */
public record TokenUsage(long inputTokens, long outputTokens, Long textInput, Long audioInput, Long cachedInput,
                         Long cachedAudioInput, Long textOutput, Long audioOutput, Long durationMillis) {

    /** More tokens than any single report can honestly carry (all kinds together): refused as absurd. */
    public static final long MAX_TOKENS_PER_REPORT = 10_000_000L;
    /** More audio than any single duration report can honestly carry: refused as absurd. */
    public static final long MAX_DURATION_MILLIS_PER_REPORT = 24 * 3_600_000L;

    public TokenUsage {
        check("input_tokens", inputTokens);
        check("output_tokens", outputTokens);
        for (Long v : new Long[]{textInput, audioInput, cachedInput, cachedAudioInput, textOutput, audioOutput}) {
            if (v != null) {
                check("token detail", v);
            }
        }
        long total = Math.max(inputTokens, nz(textInput) + nz(audioInput)) + Math.max(outputTokens, nz(textOutput) + nz(audioOutput));
        if (total > MAX_TOKENS_PER_REPORT) {
            throw new IllegalArgumentException(total + " tokens in one report are not plausible (at most "
                    + MAX_TOKENS_PER_REPORT + " in all, details included)");
        }
        if (cachedInput != null && cachedInput > Math.max(inputTokens, nz(textInput) + nz(audioInput))) {
            throw new IllegalArgumentException("cached tokens (" + cachedInput + ") cannot exceed input tokens");
        }
        if (cachedAudioInput != null && cachedAudioInput > nz(cachedInput)) {
            throw new IllegalArgumentException("cached audio tokens cannot exceed cached tokens");
        }
        if (durationMillis != null && (durationMillis < 0 || durationMillis > MAX_DURATION_MILLIS_PER_REPORT)) {
            throw new IllegalArgumentException("a duration of " + durationMillis + " ms is not plausible (0 to "
                    + MAX_DURATION_MILLIS_PER_REPORT / 1000 + " seconds per report)");
        }
        if (durationMillis != null && total > 0) {
            throw new IllegalArgumentException("a duration report carries no tokens");
        }
    }

    /** A token report, with or without realtime details. */
    public TokenUsage(long inputTokens, long outputTokens, Long textInput, Long audioInput, Long cachedInput,
                      Long cachedAudioInput, Long textOutput, Long audioOutput) {
        this(inputTokens, outputTokens, textInput, audioInput, cachedInput, cachedAudioInput, textOutput, audioOutput, null);
    }

    private static final BigDecimal ONE_MILLI = new BigDecimal("0.001");

    public static TokenUsage totals(long inputTokens, long outputTokens) {
        return new TokenUsage(inputTokens, outputTokens, null, null, null, null, null, null);
    }

    /**
     * A duration-billed report, in the provider's shape {@code {"type": "duration", "seconds": n}}.
     * Fractions of a second are kept to the millisecond, rounded up (never cheaper).
     */
    public static TokenUsage durationSeconds(BigDecimal seconds) {
        if (seconds.signum() < 0) {
            throw new IllegalArgumentException("seconds cannot be negative");
        }
        if (seconds.compareTo(BigDecimal.valueOf(MAX_DURATION_MILLIS_PER_REPORT / 1000)) > 0) {
            throw new IllegalArgumentException(seconds.toPlainString() + " seconds in one report are not plausible (at most "
                    + MAX_DURATION_MILLIS_PER_REPORT / 1000 + ")");
        }
        // below a millisecond it is one (rounded up); a tiny value written with a huge exponent is not
        // rescaled digit by digit
        long millis = seconds.signum() > 0 && seconds.compareTo(ONE_MILLI) < 0 ? 1
                : seconds.movePointRight(3).setScale(0, RoundingMode.CEILING).longValueExact();
        return new TokenUsage(0, 0, null, null, null, null, null, null, millis);
    }

    /** Whether this report is priced per minute of audio rather than per token. */
    public boolean billedByDuration() {
        return durationMillis != null;
    }

    /**
     * Refuses details larger than their totals: input text + audio above {@code input_tokens},
     * output text + audio above {@code output_tokens}, cached audio above the audio tokens. The
     * session API calls this; the provider's own reports are charged at the larger figure instead.
     */
    public TokenUsage requireDetailsWithinTotals() {
        if (nz(textInput) + nz(audioInput) > inputTokens) {
            throw new IllegalArgumentException("input_token_details (" + (nz(textInput) + nz(audioInput))
                    + " tokens) exceed input_tokens (" + inputTokens + ")");
        }
        if (nz(textOutput) + nz(audioOutput) > outputTokens) {
            throw new IllegalArgumentException("output_token_details (" + (nz(textOutput) + nz(audioOutput))
                    + " tokens) exceed output_tokens (" + outputTokens + ")");
        }
        if (audioInput != null && nz(cachedAudioInput) > audioInput) {
            throw new IllegalArgumentException("cached audio tokens cannot exceed audio tokens");
        }
        return this;
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

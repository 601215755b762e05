package ducke.core.cost;

import java.math.BigInteger;

/**
 * What the next response of a relayed session may cost, so that the guard, not the client, bounds
 * the bill. The output of a response is clamped to what the remaining budget can pay at the
 * model's dearest output rate, after reserving a conservative estimate of that response's input
 * and whatever responses already in flight may still cost.
 *
 * <p>The input estimate: a response's input is the whole context. After the first usage report it
 * is the last report's input plus its output (the answer joins the context), plus what was appended
 * since; before it, a configured floor (instructions and tools are input too) plus what was
 * appended. Text counts one token per UTF-8 byte (a token is never shorter than a byte); audio
 * counts one token per {@link #DEFAULT_AUDIO_CHARS_PER_TOKEN} base64 characters until the
 * session's own reports show its real ratio, which is then used with a 25% margin, and never above
 * what the session's audio format physically carries per token ({@link #PCM16_CHARS_PER_TOKEN},
 * {@link #G711_CHARS_PER_TOKEN}), less the same margin: audio appended and then cleared, or
 * silence a server VAD drops, can make the observed ratio as large as a client likes, and a large
 * ratio would price the next minute of audio at nearly nothing. Audio that the session
 * transcribes is reserved a second time at the transcription model's input rate.
 *
 * <p>Only a response that read the conversation tells what the conversation's context is. An
 * out-of-band response ({@code conversation: "none"}) joins nothing to it, and one given its own
 * {@code input} read something else: their reports leave the context estimate as it was (the
 * second's output joins the conversation and is added to it), and they teach no audio ratio. Such
 * a response is still reserved the whole conversation's estimate, which covers every item its own
 * input may refer to once; an item referred to again counts as the whole context each time, since
 * the relay does not know how large that item is.
 *
 * <p>Pure and not thread-safe: the relay calls it under one lock. Rates are nano-USD per million
 * tokens, money nano-USD.
 */
public final class ResponseBudget {

    /** What a response reads and where its answer goes, as its {@code response.create} said. */
    public enum Scope {
        /** Reads the conversation and its answer joins it: the default, and every response server VAD starts. */
        CONVERSATION,
        /** Reads its own {@code input} instead of the conversation; its answer joins the conversation. */
        OWN_INPUT,
        /** {@code conversation: "none"}: its answer joins no conversation. */
        OUT_OF_BAND
    }

    /**
     * Base64 characters of audio per input token before the session has shown its own ratio:
     * about 8x more tokens than 24 kHz PCM16 really costs, and still more than G.711.
     */
    public static final long DEFAULT_AUDIO_CHARS_PER_TOKEN = 800;
    /**
     * Base64 characters per input token of 24 kHz 16-bit PCM, the densest input format: 48,000
     * bytes (64,000 base64 characters) a second, billed at 10 audio tokens a second.
     */
    public static final long PCM16_CHARS_PER_TOKEN = 6_400;
    /** The same for 8 kHz G.711 (µ-law or A-law): 8,000 bytes a second, rounded down (more tokens). */
    public static final long G711_CHARS_PER_TOKEN = 1_066;
    /** The provider accepts 1..4096 (or "inf") as a response's maximum output. */
    public static final long PROVIDER_MAX_OUTPUT_TOKENS = 4096;
    /** Learning the audio ratio needs this much audio (about 2 s of 24 kHz PCM16) and tokens. */
    static final long LEARN_MIN_AUDIO_CHARS = 128_000;
    static final long LEARN_MIN_AUDIO_TOKENS = 10;
    private static final BigInteger MILLION = BigInteger.valueOf(1_000_000);

    private final long minInputReserveTokens;
    private long inputRate;
    private long outputRate;
    private long transcriptionRate;
    private boolean reported;
    private long contextTokens;
    private long pendingTextTokens;
    private long pendingAudioChars;
    private long sessionAudioChars;
    private long audioCharsPerToken = DEFAULT_AUDIO_CHARS_PER_TOKEN;
    private long maxAudioCharsPerToken = withMargin(PCM16_CHARS_PER_TOKEN);
    private long inFlightReserveNanoUsd;
    /** A response is set aside to follow (a spoken goodbye): every output token is its input too. */
    private boolean outputReadAgain;
    /** What was pending when the latest response started: that response's report covers it. */
    private long textAtStart;
    private long audioAtStart;

    /**
     * @param inputRate  the model's dearest input rate, nano-USD per 1M tokens
     * @param outputRate the model's dearest output rate, nano-USD per 1M tokens (more than 0)
     */
    public ResponseBudget(long minInputReserveTokens, long inputRate, long outputRate) {
        if (minInputReserveTokens < 0 || inputRate < 0 || outputRate <= 0) {
            throw new IllegalArgumentException("reserve and rates must be positive");
        }
        this.minInputReserveTokens = minInputReserveTokens;
        this.inputRate = inputRate;
        this.outputRate = outputRate;
    }

    public static ResponseBudget forModel(ModelPrice price, long minInputReserveTokens) {
        return new ResponseBudget(minInputReserveTokens, price.maxInputRate(), Math.max(1, price.maxOutputRate()));
    }

    /**
     * Prices what comes next at {@code price}'s rates (a new version of the cluster's settings):
     * reservations already taken stay as they are.
     */
    public void reprice(ModelPrice price) {
        this.inputRate = price.maxInputRate();
        this.outputRate = Math.max(1, price.maxOutputRate());
    }

    /**
     * Whether room is kept for a response that follows the next one and reads its output as input
     * (a spoken goodbye, whose own cost the caller sets aside): the output clamp then prices each
     * token at the output rate plus the input rate.
     */
    public void outputReadAgain(boolean on) {
        this.outputReadAgain = on;
    }

    /** Audio appended to the input buffer, as base64 characters. */
    public void audioAppended(long base64Chars) {
        pendingAudioChars = Math.addExact(pendingAudioChars, Math.max(0, base64Chars));
        sessionAudioChars = Math.addExact(sessionAudioChars, Math.max(0, base64Chars));
    }

    /**
     * The session's input audio format, as base64 characters per token it physically carries
     * ({@link #PCM16_CHARS_PER_TOKEN} unless the session says otherwise): a learned ratio is never
     * above it, less the margin, and one learned from another format is lowered to it.
     */
    public void audioFormat(long physicalCharsPerToken) {
        maxAudioCharsPerToken = withMargin(Math.max(1, physicalCharsPerToken));
        audioCharsPerToken = Math.min(audioCharsPerToken, maxAudioCharsPerToken);
    }

    /** Text (or instructions, tools, any non-audio input) added to the context, as UTF-8 bytes. */
    public void textAdded(long utf8Bytes) {
        pendingTextTokens = Math.addExact(pendingTextTokens, Math.max(0, utf8Bytes));
    }

    /**
     * A response's own input refers to conversation items this many times more than once: each
     * repeat counts as large as the whole context may be now, a bound on any one item.
     */
    public void repeatedItemReferences(long count) {
        if (count > 0) {
            long each = nextInputTokens();
            pendingTextTokens = Math.addExact(pendingTextTokens, Math.multiplyExact(count, each));
        }
    }

    /** The session now transcribes its input audio at this input rate (0: not at all). */
    public void transcribing(long transcriptionInputRate) {
        this.transcriptionRate = Math.max(0, transcriptionInputRate);
    }

    /** A response that read the conversation was charged with this usage: the context is now what it reported. */
    public void reported(TokenUsage usage) {
        reported(usage, Scope.CONVERSATION);
    }

    /**
     * A response was charged with this usage. Only a report of the conversation sets the context;
     * the answer of a response that read its own input joins the conversation as pending input;
     * an out-of-band report changes nothing. What was pending when such a response started is not
     * in its report and stays pending.
     */
    public void reported(TokenUsage usage, Scope scope) {
        if (scope == Scope.OWN_INPUT) {
            pendingTextTokens = Math.addExact(pendingTextTokens, usage.outputTokens());
        }
        if (scope != Scope.CONVERSATION) {
            return;
        }
        reported = true;
        contextTokens = Math.addExact(usage.inputTokens(), usage.outputTokens());
        long audioTokens = usage.audioInput() == null ? 0 : usage.audioInput();
        if (sessionAudioChars >= LEARN_MIN_AUDIO_CHARS && audioTokens >= LEARN_MIN_AUDIO_TOKENS) {
            // the observed ratio less a 25% margin: more tokens than observed, never fewer, and never
            // fewer than the format physically carries (cleared audio and dropped silence inflate it)
            audioCharsPerToken = Math.min(maxAudioCharsPerToken, Math.max(1, withMargin(sessionAudioChars / audioTokens)));
        }
        // what was appended while the response ran is not in its report: it stays pending
        pendingTextTokens = Math.max(0, pendingTextTokens - textAtStart);
        pendingAudioChars = Math.max(0, pendingAudioChars - audioAtStart);
        textAtStart = 0;
        audioAtStart = 0;
    }

    public long audioCharsPerToken() {
        return audioCharsPerToken;
    }

    /** The estimated input of the next response, in tokens. */
    public long nextInputTokens() {
        long base = reported ? contextTokens : minInputReserveTokens;
        return base + pendingTextTokens + audioTokens();
    }

    /** What the next response's input may cost, transcription of pending audio included. */
    public long nextInputCostNanoUsd() {
        return cost(nextInputTokens(), inputRate) + cost(audioTokens(), transcriptionRate);
    }

    /** What transcribing the audio appended since the last report may cost (0 when the session does not transcribe). */
    public long pendingTranscriptionCostNanoUsd() {
        return cost(audioTokens(), transcriptionRate);
    }

    /**
     * The most output tokens the next response may produce so that, with its estimated input and
     * the responses in flight, the session stays within {@code remainingNanoUsd}; 0 when it cannot
     * even pay one. Never above {@link #PROVIDER_MAX_OUTPUT_TOKENS}.
     */
    public long maxOutputTokens(long remainingNanoUsd) {
        long available = remainingNanoUsd - inFlightReserveNanoUsd - nextInputCostNanoUsd();
        if (available <= 0) {
            return 0;
        }
        long perToken = outputReadAgain ? Math.addExact(outputRate, inputRate) : outputRate;
        BigInteger tokens = BigInteger.valueOf(available).multiply(MILLION).divide(BigInteger.valueOf(perToken));
        return tokens.min(BigInteger.valueOf(PROVIDER_MAX_OUTPUT_TOKENS)).longValueExact();
    }

    /**
     * {@link #maxOutputTokens(long)} as if {@code extraAudioChars} more audio had been appended: the
     * clamp to set on the upstream session ahead of audio still to come, so that a response the
     * upstream starts by itself (server VAD) at the end of that audio starts within the budget.
     */
    public long maxOutputTokens(long remainingNanoUsd, long extraAudioChars) {
        long pending = pendingAudioChars;
        pendingAudioChars = Math.addExact(pendingAudioChars, Math.max(0, extraAudioChars));
        try {
            return maxOutputTokens(remainingNanoUsd);
        } finally {
            pendingAudioChars = pending;
        }
    }

    /**
     * The most the next response may cost with this output clamp, as if {@code extraAudioChars}
     * more audio had been appended: what a reservation for it must hold.
     */
    public long worstCaseNanoUsd(long maxOutputTokens, long extraAudioChars) {
        long pending = pendingAudioChars;
        pendingAudioChars = Math.addExact(pendingAudioChars, Math.max(0, extraAudioChars));
        try {
            return Math.addExact(nextInputCostNanoUsd(), cost(Math.max(0, maxOutputTokens), outputRate));
        } finally {
            pendingAudioChars = pending;
        }
    }

    /**
     * The least a reservation for the next response must hold for {@link #maxOutputTokens} to allow
     * it one output token: its estimated input and one output token, priced as the clamp prices it
     * (with {@link #outputReadAgain}, at the output plus the input rate). A reservation granted
     * less pays no response: it is refused, for the budget that could not give more.
     */
    public long leastNanoUsd() {
        long perToken = outputReadAgain ? Math.addExact(outputRate, inputRate) : outputRate;
        return Math.addExact(nextInputCostNanoUsd(), cost(1, perToken));
    }

    /** What this much text (instructions, one token per UTF-8 byte) costs as input. */
    public long textCostNanoUsd(long utf8Bytes) {
        return cost(Math.max(0, utf8Bytes), inputRate);
    }

    /** Whether a next response can start at all: its estimated input plus one output token. */
    public boolean canAffordNext(long remainingNanoUsd) {
        return maxOutputTokens(remainingNanoUsd) >= 1;
    }

    /**
     * A response started with this output clamp: reserves its estimated input and full output
     * until it is charged. Returns the reservation, to be released by {@link #responseFinished}.
     */
    public long responseStarted(long maxOutputTokens) {
        long reserve = nextInputCostNanoUsd() + cost(Math.max(0, maxOutputTokens), outputRate);
        inFlightReserveNanoUsd = Math.addExact(inFlightReserveNanoUsd, reserve);
        textAtStart = pendingTextTokens;
        audioAtStart = pendingAudioChars;
        return reserve;
    }

    public void responseFinished(long reserveNanoUsd) {
        inFlightReserveNanoUsd = Math.max(0, inFlightReserveNanoUsd - reserveNanoUsd);
    }

    public long inFlightReserveNanoUsd() {
        return inFlightReserveNanoUsd;
    }

    /** A ratio less the 25% margin: 25% more tokens for the same characters. */
    private static long withMargin(long charsPerToken) {
        return Math.max(1, charsPerToken * 4 / 5);
    }

    private long audioTokens() {
        return (pendingAudioChars + audioCharsPerToken - 1) / audioCharsPerToken;
    }

    /** Cost of {@code tokens} at {@code rate} per million, rounded up to the nano-dollar. */
    static long cost(long tokens, long rate) {
        BigInteger[] qr = BigInteger.valueOf(tokens).multiply(BigInteger.valueOf(rate)).divideAndRemainder(MILLION);
        return qr[0].add(qr[1].signum() > 0 ? BigInteger.ONE : BigInteger.ZERO).longValueExact();
    }
}

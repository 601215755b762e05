package ducke.core.cost;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * What makes a charge the same charge when it arrives twice: a key unique within its session (a
 * relayed response's id {@code resp_…}, {@code transcription:<item id>}, a usage report's
 * idempotency key {@code report:<key>}) and a digest of what was reported under it, so that a key
 * sent again with a different report is told apart from a plain repeat. The session ledger keeps
 * only the two 64-bit digests ({@link ChargeKeys}).
 *
 * @param value      the key as the caller gave it; never blank
 * @param keyHash    the first 64 bits of the key's SHA-256
 * @param reportHash the first 64 bits of the SHA-256 of the reported model and usage
 */
public record ChargeKey(String value, long keyHash, long reportHash) {

    /** The prefix of a usage report's idempotency key as charged (the API's keys, apart from the relay's). */
    public static final String REPORT_PREFIX = "report:";

    /**
     * Whether this is a usage report's key: such a charge may be retried after an answer that never
     * arrived, so the ledger remembers whether its spend part completed ({@link ChargeKeys}).
     */
    public boolean reported() {
        return value.startsWith(REPORT_PREFIX);
    }

    public ChargeKey {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("a charge key is never blank");
        }
    }

    /** The key of a usage report, priced by {@code reportedModel} (null: the session's model). */
    public static ChargeKey of(String value, String reportedModel, TokenUsage usage) {
        return new ChargeKey(value, digest(value), digest(report(reportedModel, usage)));
    }

    /** The key of a charge with nothing more to compare than its amount (a fee, an estimate). */
    public static ChargeKey of(String value, long costNanoUsd) {
        return new ChargeKey(value, digest(value), digest("cost " + costNanoUsd));
    }

    /** Null when there is no key: an unkeyed charge. */
    public static ChargeKey orNull(String value, String reportedModel, TokenUsage usage) {
        return value == null ? null : of(value, reportedModel, usage);
    }

    /** Every field that prices a report, in a fixed order; null fields are told apart from zeros. */
    private static String report(String reportedModel, TokenUsage u) {
        return String.join(" ", "model", String.valueOf(reportedModel), "in", Long.toString(u.inputTokens()),
                "out", Long.toString(u.outputTokens()), "text_in", String.valueOf(u.textInput()),
                "audio_in", String.valueOf(u.audioInput()), "cached", String.valueOf(u.cachedInput()),
                "cached_audio", String.valueOf(u.cachedAudioInput()), "text_out", String.valueOf(u.textOutput()),
                "audio_out", String.valueOf(u.audioOutput()), "ms", String.valueOf(u.durationMillis()));
    }

    static long digest(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(d, 0, Long.BYTES).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}

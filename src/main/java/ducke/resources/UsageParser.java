package ducke.resources;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.api.UsageRequest;
import ducke.core.cost.TokenUsage;
import ducke.errors.ApiException;

import java.math.BigDecimal;
import java.util.Set;

/**
 * Turns a usage report into {@link TokenUsage}, refusing with 422 anything but whole, sane token
 * counts whose details stay within their totals, or a sane duration of a duration report.
 */
final class UsageParser {

    private static final String DURATION = "duration";
    private static final String TOKENS = "tokens";
    private static final Set<String> INPUT_DETAILS = Set.of("text_tokens", "audio_tokens", "image_tokens", "cached_tokens",
            "cached_tokens_details");
    private static final Set<String> CACHED_DETAILS = Set.of("text_tokens", "audio_tokens", "image_tokens");
    private static final Set<String> OUTPUT_DETAILS = Set.of("text_tokens", "audio_tokens");

    private UsageParser() {
    }

    static TokenUsage parse(UsageRequest r) {
        if (r == null) {
            throw ApiException.invalid(422, "A usage report is required: {\"input_tokens\": N, \"output_tokens\": N}");
        }
        KnownFields.require(r.unknownFields(), "a usage report takes model, type, input_tokens, output_tokens, "
                + "total_tokens, input_token_details, output_token_details, seconds, report_id or reservation_id");
        try {
            if (r.type() == null || r.type().equals(TOKENS)) {
                return tokens(r).requireDetailsWithinTotals();
            }
            if (r.type().equals(DURATION)) {
                return duration(r);
            }
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(422, e.getMessage());
        }
        throw ApiException.invalid(422, "type must be \"tokens\" or \"duration\"");
    }

    private static TokenUsage tokens(UsageRequest r) {
        if (r.seconds() != null && !r.seconds().isNull()) {
            throw ApiException.invalid(422, "seconds belongs to a duration report: send \"type\": \"duration\"");
        }
        JsonNode in = r.inputTokenDetails();
        JsonNode out = r.outputTokenDetails();
        requireObject("input_token_details", in);
        requireObject("output_token_details", out);
        JsonNode cachedDetails = in == null ? null : in.get("cached_tokens_details");
        requireObject("input_token_details.cached_tokens_details", cachedDetails);
        // the provider's own fields; anything else is a typo or another API's field, refused
        KnownFields.require(in, "input_token_details", INPUT_DETAILS);
        KnownFields.require(cachedDetails, "input_token_details.cached_tokens_details", CACHED_DETAILS);
        KnownFields.require(out, "output_token_details", OUTPUT_DETAILS);
        for (JsonNode images : new JsonNode[]{in == null ? null : in.get("image_tokens"),
                cachedDetails == null ? null : cachedDetails.get("image_tokens")}) {
            count("image_tokens", images, false);
        }
        long input = count("input_tokens", r.inputTokens(), true);
        long output = count("output_tokens", r.outputTokens(), true);
        if (r.totalTokens() != null && !r.totalTokens().isNull()
                && count("total_tokens", r.totalTokens(), false) != input + output) {
            throw ApiException.invalid(422, "total_tokens must be input_tokens + output_tokens (" + (input + output) + ")");
        }
        return new TokenUsage(input, output,
                optional(in, "text_tokens", "input_token_details"), optional(in, "audio_tokens", "input_token_details"),
                optional(in, "cached_tokens", "input_token_details"),
                optional(cachedDetails, "audio_tokens", "input_token_details.cached_tokens_details"),
                optional(out, "text_tokens", "output_token_details"), optional(out, "audio_tokens", "output_token_details"));
    }

    /** The provider's shape: {@code {"type": "duration", "seconds": n}}, n a number of seconds, fractions allowed. */
    private static TokenUsage duration(UsageRequest r) {
        for (JsonNode tokens : new JsonNode[]{r.inputTokens(), r.outputTokens(), r.totalTokens(), r.inputTokenDetails(),
                r.outputTokenDetails()}) {
            if (tokens != null && !tokens.isNull()) {
                throw ApiException.invalid(422, "a duration report carries seconds, not tokens");
            }
        }
        JsonNode v = r.seconds();
        if (v == null || v.isNull()) {
            throw ApiException.invalid(422, "seconds is required in a duration report");
        }
        if (!v.isNumber() || (v.isFloatingPointNumber() && !Double.isFinite(v.doubleValue()))) {
            throw ApiException.invalid(422, "seconds must be a number, got " + abbreviate(v.toString()));
        }
        return TokenUsage.durationSeconds(v.decimalValue());
    }

    private static Long optional(JsonNode parent, String field, String path) {
        if (parent == null || parent.get(field) == null || parent.get(field).isNull()) {
            return null;
        }
        return count(path + "." + field, parent.get(field), false);
    }

    static long count(String name, JsonNode v, boolean required) {
        if (v == null || v.isNull()) {
            if (required) {
                throw ApiException.invalid(422, name + " is required");
            }
            return 0;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiException.invalid(422, name + " must be a whole number of tokens, got " + abbreviate(v.toString()));
        }
        long n = v.asLong();
        if (n < 0) {
            throw ApiException.invalid(422, name + " cannot be negative");
        }
        if (n > TokenUsage.MAX_TOKENS_PER_REPORT) {
            throw ApiException.invalid(422, name + " of " + n + " is not plausible (at most " + TokenUsage.MAX_TOKENS_PER_REPORT + ")");
        }
        return n;
    }

    private static void requireObject(String name, JsonNode v) {
        if (v != null && !v.isNull() && !v.isObject()) {
            throw ApiException.invalid(422, name + " must be an object");
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "…" : s;
    }
}

package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.core.cost.TokenUsage;

import java.util.List;

/** Reading the few upstream events that matter, in their real shapes. */
final class RealtimeEvents {

    static final String RESPONSE_DONE = "response.done";
    static final String RESPONSE_CREATED = "response.created";
    static final String ERROR = "error";
    static final String TRANSCRIPTION_COMPLETED = "conversation.item.input_audio_transcription.completed";
    static final String TRANSCRIPTION_FAILED = "conversation.item.input_audio_transcription.failed";
    static final String AUDIO_COMMITTED = "input_audio_buffer.committed";
    static final String OUTPUT_ITEM_ADDED = "response.output_item.added";
    static final String OUTPUT_ITEM_DONE = "response.output_item.done";
    static final String FUNCTION_ARGS_PREFIX = "response.function_call_arguments.";

    private RealtimeEvents() {
    }

    /** Whether an event of this type must be parsed in full. */
    static boolean matters(String type) {
        return type.equals(RESPONSE_DONE) || type.equals(RESPONSE_CREATED) || type.equals(ERROR)
                || type.equals(TRANSCRIPTION_COMPLETED) || type.equals(TRANSCRIPTION_FAILED)
                || type.equals(AUDIO_COMMITTED) || type.equals(OUTPUT_ITEM_ADDED)
                || type.equals(OUTPUT_ITEM_DONE) || type.startsWith(FUNCTION_ARGS_PREFIX);
    }

    /** The output limit's name in GA sessions and responses, and in beta responses and the response resource. */
    static final String MAX_OUTPUT_TOKENS = "max_output_tokens";
    /** The output limit's name in a beta session. */
    static final String MAX_RESPONSE_OUTPUT_TOKENS = "max_response_output_tokens";
    /** Every name a client may write an output limit under, in either interface: each is read as its limit. */
    static final List<String> OUTPUT_LIMIT_FIELDS = List.of(MAX_OUTPUT_TOKENS, MAX_RESPONSE_OUTPUT_TOKENS);

    /** The name of a session's output limit: {@code session.max_response_output_tokens} (beta), {@code session.max_output_tokens} (GA). */
    static String sessionOutputLimit(boolean beta) {
        return beta ? MAX_RESPONSE_OUTPUT_TOKENS : MAX_OUTPUT_TOKENS;
    }

    /** The name of a response's output limit in {@code response.create}: {@code response.max_output_tokens} in both interfaces. */
    static String responseOutputLimit(boolean beta) {
        return MAX_OUTPUT_TOKENS;
    }

    /**
     * The output limit a response was started with: the response resource's {@code max_output_tokens}
     * (both interfaces; the beta name is read too); "inf" or absent as unlimited.
     */
    static long maxOutputTokens(JsonNode response) {
        for (String field : OUTPUT_LIMIT_FIELDS) {
            JsonNode v = response.path(field);
            if (v.isIntegralNumber() && v.canConvertToLong()) {
                return v.asLong();
            }
        }
        return Long.MAX_VALUE;
    }

    /**
     * The id of the response a {@code response.done} names, from the first bytes of the event (the
     * rest was too large to read): the first {@code "resp_…"} string, which is the response's own
     * id (items are {@code item_…}); "" when none is there.
     */
    static String responseIdIn(java.nio.ByteBuffer prefix) {
        byte[] b = new byte[prefix.remaining()];
        prefix.duplicate().get(b);
        String head = new String(b, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = head.indexOf("\"resp_");
        if (at < 0) {
            return "";
        }
        int end = head.indexOf('"', at + 1);
        return end < 0 || end - at > 128 ? "" : head.substring(at + 1, end);
    }

    /**
     * Whether the response resource says it joins no conversation: {@code conversation_id} present
     * and null, as the provider writes it for {@code conversation: "none"}. Absent says nothing.
     */
    static boolean outOfBand(JsonNode response) {
        return response.has("conversation_id") && response.get("conversation_id").isNull();
    }

    /** The usage of a {@code response.done}, or null when it carries none. */
    static TokenUsage responseUsage(JsonNode event) {
        return usage(event.path("response").path("usage"));
    }

    /** The usage of a transcription, by tokens or by duration ({@code "type": "duration"}); null when absent. */
    static TokenUsage transcriptionUsage(JsonNode event) {
        JsonNode u = event.path("usage");
        if ("duration".equals(u.path("type").asText())) {
            JsonNode seconds = u.path("seconds");
            if (!seconds.isNumber()) {
                throw new IllegalArgumentException("a duration usage needs seconds");
            }
            return TokenUsage.durationSeconds(seconds.decimalValue());
        }
        return u.has("input_tokens") || u.has("output_tokens") ? usage(u) : null;
    }

    static TokenUsage usage(JsonNode u) {
        if (!u.isObject()) {
            return null;
        }
        JsonNode in = u.path("input_token_details");
        JsonNode out = u.path("output_token_details");
        return new TokenUsage(count(u, "input_tokens"), count(u, "output_tokens"),
                optional(in, "text_tokens"), optional(in, "audio_tokens"), optional(in, "cached_tokens"),
                optional(in.path("cached_tokens_details"), "audio_tokens"),
                optional(out, "text_tokens"), optional(out, "audio_tokens"));
    }

    private static long count(JsonNode parent, String field) {
        Long v = optional(parent, field);
        return v == null ? 0 : v;
    }

    private static Long optional(JsonNode parent, String field) {
        JsonNode v = parent.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw new IllegalArgumentException(field + " is not a whole number");
        }
        return v.asLong();
    }

    /** The function call an event is about: its item id, and for items the name and call id. */
    record FunctionCall(String itemId, String callId, String name) {
    }

    /** The function call an {@code output_item} or {@code function_call_arguments} event concerns, or null. */
    static FunctionCall functionCall(String type, JsonNode event) {
        if (type.startsWith(FUNCTION_ARGS_PREFIX)) {
            return new FunctionCall(event.path("item_id").asText(""), event.path("call_id").asText(""),
                    event.path("name").asText(""));
        }
        JsonNode item = event.path("item");
        if (!"function_call".equals(item.path("type").asText())) {
            return null;
        }
        return new FunctionCall(item.path("id").asText(""), item.path("call_id").asText(""), item.path("name").asText(""));
    }
}

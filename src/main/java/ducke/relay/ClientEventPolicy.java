package ducke.relay;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ducke.core.cost.PriceTable;
import ducke.core.cost.ResponseBudget;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a client may send upstream. Only the realtime API's client events pass; the session's
 * model is fixed; a transcription model must have a price; output limits are rewritten to what
 * the budget can pay ("inf" included); one response runs at a time; input that the budget cannot
 * pay a response for ends the session before that response starts. Everything else is refused
 * with the realtime API's own {@code error} event shape and the session goes on.
 */
final class ClientEventPolicy {

    static final Set<String> ALLOWED = Set.of("session.update", "transcription_session.update",
            "input_audio_buffer.append", "input_audio_buffer.commit", "input_audio_buffer.clear",
            "conversation.item.create", "conversation.item.retrieve", "conversation.item.truncate",
            "conversation.item.delete", "response.create", "response.cancel", "output_audio_buffer.clear");

    static final String EVENT_NOT_ALLOWED = "event_not_allowed";
    static final String MODEL_CHANGE = "model_change_not_allowed";
    static final String TRANSCRIPTION_MODEL = "transcription_model_not_allowed";
    static final String ACTIVE_RESPONSE = "conversation_already_has_active_response";

    /** What to do with one client frame. */
    sealed interface Outcome permits Forward, Refuse, EndForBudget {
    }

    /** Send this text upstream, as UTF-8 (the frame itself, or its rewritten form). */
    record Forward(ByteBuffer frame) implements Outcome {
    }

    /** Do not forward; tell the client with an {@code error} event. */
    record Refuse(String code, String message, String eventId) implements Outcome {
    }

    /** The budget cannot pay the next response: end the session ({@code budget_exceeded}). */
    record EndForBudget() implements Outcome {
    }

    private static final EndForBudget END = new EndForBudget();
    private static final AtomicLong IDS = new AtomicLong();

    private final ObjectReader strict;
    private final Metering metering;
    private final PriceTable prices;
    private final String model;
    private final boolean beta;

    ClientEventPolicy(ObjectMapper mapper, Metering metering, PriceTable prices, String model, boolean beta) {
        this.strict = mapper.reader().with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        this.metering = metering;
        this.prices = prices;
        this.model = model;
        this.beta = beta;
    }

    /** The name of the output limit in this interface's vocabulary (beta or GA). */
    static String outputLimitField(boolean beta) {
        return beta ? "max_response_output_tokens" : "max_output_tokens";
    }

    /** Decides about one client text message, given as UTF-8 in a heap buffer; the buffer is not changed. */
    Outcome inspect(ByteBuffer frame) {
        long audio = AudioAppend.audioChars(frame);
        if (audio >= 0) {
            return appended(frame, audio);
        }
        JsonNode parsed;
        try {
            parsed = strict.readTree(frame.array(), frame.arrayOffset() + frame.position(), frame.remaining());
        } catch (Exception e) {
            return new Refuse(EVENT_NOT_ALLOWED, "Client events must be JSON objects with a known type", null);
        }
        if (!(parsed instanceof ObjectNode event)) {
            return new Refuse(EVENT_NOT_ALLOWED, "Client events must be JSON objects with a known type", null);
        }
        String type = event.path("type").isTextual() ? event.get("type").asText() : "";
        String eventId = event.path("event_id").isTextual() ? event.get("event_id").asText() : null;
        if (!ALLOWED.contains(type)) {
            return new Refuse(EVENT_NOT_ALLOWED, "Event type '" + shorten(type) + "' is not allowed through this gateway", eventId);
        }
        return switch (type) {
            case AudioAppend.TYPE -> appended(frame, event.path("audio").asText("").length());
            case "session.update", "transcription_session.update" -> sessionUpdate(frame, event, eventId);
            case "conversation.item.create" -> itemCreate(frame, event);
            case "response.create" -> responseCreate(event, eventId);
            default -> new Forward(frame);
        };
    }

    /** A refusal as the realtime API's own error event. */
    static String errorEvent(ObjectMapper mapper, Refuse r) {
        ObjectNode e = mapper.createObjectNode();
        e.put("type", "error");
        e.put("event_id", "event_gw_" + IDS.incrementAndGet());
        ObjectNode error = e.putObject("error");
        error.put("type", "invalid_request_error");
        error.put("code", r.code());
        error.put("message", r.message());
        error.putNull("param");
        if (r.eventId() == null) {
            error.putNull("event_id");
        } else {
            error.put("event_id", r.eventId());
        }
        return e.toString();
    }

    private Outcome appended(ByteBuffer frame, long audioChars) {
        metering.audioAppended(audioChars);
        return metering.canAffordNext() ? new Forward(frame) : END;
    }

    private Outcome sessionUpdate(ByteBuffer frame, ObjectNode event, String eventId) {
        JsonNode session = event.path("session");
        if (!(session instanceof ObjectNode s)) {
            return new Forward(frame);
        }
        JsonNode named = s.path("model");
        if (named.isTextual() && !PriceTable.sameModel(named.asText(), model)) {
            return new Refuse(MODEL_CHANGE, "This session's model is " + model + "; it cannot be changed", eventId);
        }
        for (JsonNode transcription : new JsonNode[]{s.path("input_audio_transcription"),
                s.path("audio").path("input").path("transcription")}) {
            if (transcription.isObject() || transcription.isNull()) {
                metering.transcribes(transcription.isObject());
            }
            JsonNode m = transcription.path("model");
            if (m.isTextual()) {
                if (!prices.priced(m.asText())) {
                    return new Refuse(TRANSCRIPTION_MODEL, "Transcription model '" + shorten(m.asText())
                            + "' has no price on this gateway", eventId);
                }
                metering.transcribing(m.asText(), prices.match(m.asText()).price().maxInputRate());
            }
        }
        for (JsonNode format : new JsonNode[]{s.path("input_audio_format"), s.path("audio").path("input").path("format").path("type")}) {
            if (format.isTextual()) {
                metering.audioFormat(charsPerToken(format.asText()));
            }
        }
        for (String field : new String[]{"instructions", "tools"}) {
            if (s.has(field)) {
                metering.textAdded(utf8(s.get(field).toString()));
            }
        }
        boolean changed = false;
        for (String field : new String[]{"max_output_tokens", "max_response_output_tokens"}) {
            if (s.has(field)) {
                metering.clientMaxOutput(limit(s.get(field)));
                s.put(field, Math.max(1, metering.clamp()));
                changed = true;
            }
        }
        return new Forward(changed ? utf8Of(event) : frame);
    }

    private Outcome itemCreate(ByteBuffer frame, ObjectNode event) {
        long audio = 0;
        long text = 0;
        for (JsonNode part : event.path("item").path("content")) {
            if (part.path("audio").isTextual()) {
                audio += part.get("audio").asText().length();
            } else {
                text += utf8(part.toString());
            }
        }
        JsonNode item = event.path("item");
        if (!item.path("content").isArray()) {
            text += utf8(item.toString());
        }
        metering.audioAppended(audio);
        metering.textAdded(text);
        return metering.canAffordNext() ? new Forward(frame) : END;
    }

    private Outcome responseCreate(ObjectNode event, String eventId) {
        ObjectNode response = event.path("response") instanceof ObjectNode r ? r : event.putObject("response");
        JsonNode model = response.path("model");
        if (model.isTextual() && !PriceTable.sameModel(model.asText(), this.model)) {
            return new Refuse(MODEL_CHANGE, "This session's model is " + this.model + "; it cannot be changed", eventId);
        }
        for (String field : new String[]{"instructions", "input", "tools"}) {
            if (response.has(field)) {
                metering.textAdded(utf8(response.get(field).toString()));
            }
        }
        long requested = Long.MAX_VALUE;
        for (String field : new String[]{"max_output_tokens", "max_response_output_tokens"}) {
            if (response.has(field)) {
                requested = Math.min(requested, limit(response.get(field)));
                response.remove(field);
            }
        }
        String id = eventId != null ? eventId : "event_gw_" + IDS.incrementAndGet();
        event.put("event_id", id);
        return switch (metering.startResponse(id, requested)) {
            case ACTIVE_RESPONSE -> new Refuse(ACTIVE_RESPONSE,
                    "Conversation already has an active response in progress", eventId);
            case UNAFFORDABLE -> END;
            case FORWARD -> {
                response.put(outputLimitField(beta), metering.lastClamp());
                yield new Forward(utf8Of(event));
            }
        };
    }

    /**
     * Base64 characters per audio token of an input format, beta ({@code pcm16}, {@code g711_ulaw})
     * or GA ({@code audio/pcm}, {@code audio/pcmu}) names; an unknown name counts as the format with
     * the fewest characters per token, so that its audio is never estimated low.
     */
    static long charsPerToken(String format) {
        return switch (format) {
            case "pcm16", "audio/pcm" -> ResponseBudget.PCM16_CHARS_PER_TOKEN;
            default -> ResponseBudget.G711_CHARS_PER_TOKEN;
        };
    }

    /** A client's output limit: a positive integer, or "inf" (and anything else) as no limit of its own. */
    private static long limit(JsonNode v) {
        return v.isIntegralNumber() && v.canConvertToLong() && v.asLong() > 0 ? v.asLong() : Long.MAX_VALUE;
    }

    private static ByteBuffer utf8Of(JsonNode event) {
        return ByteBuffer.wrap(event.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static long utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    private static String shorten(String s) {
        String printable = s.replaceAll("[^\\x20-\\x7e]", "?");
        return printable.length() > 64 ? printable.substring(0, 64) + "…" : printable;
    }
}

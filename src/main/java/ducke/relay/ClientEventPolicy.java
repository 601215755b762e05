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
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * What a client may send upstream. Only the realtime API's client events pass; the session's
 * model is fixed; a transcription model must have a price; tools of a type the relay cannot
 * estimate (MCP) and stored prompt references pass only where configured; output limits are
 * rewritten to what the budget can pay ("inf" included), under the interface's own name; one
 * response runs at a time; input that the budget cannot pay a response for ends the session before
 * that response starts. Everything else is refused with the realtime API's own {@code error} event
 * shape and the session goes on.
 *
 * <p>A {@code response.create} goes upstream under an event id of the gateway's own, unguessable
 * per session, so that only the upstream's errors about that very event release its reservation;
 * such an error reaches the client with the client's own id ({@link #errorForClient}).
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
    static final String TOOL_TYPE = "tool_type_not_allowed";

    /**
     * Input the relay cannot see and a deployment may still let clients ask for: tool types beyond
     * {@code function} ({@code mcp}: the provider lists and calls an MCP server's tools itself) and
     * stored prompt references ({@code prompt}: its text lives at the provider).
     */
    record Allowed(Set<String> toolTypes, boolean promptReferences) {
        static final Allowed DEFAULT = new Allowed(Set.of("function"), false);

        Allowed {
            toolTypes = toolTypes.stream().map(t -> t.trim().toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
        }
    }

    /** The client's own event ids of the latest response.create events forwarded under the gateway's: enough for any in flight. */
    static final int REMEMBERED_CREATES = 64;
    private static final SecureRandom RANDOM = new SecureRandom();

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
    private final Allowed allowed;
    /** The gateway's ids for this session's response.create events: {@code event_gw_}, 64 random bits, a count. */
    private final String createIdPrefix;
    private long creates;
    /** Gateway id → the client's id ("" when it gave none), eldest dropped first; guarded by itself. */
    private final Map<String, String> clientIds = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > REMEMBERED_CREATES;
        }
    };

    ClientEventPolicy(ObjectMapper mapper, Metering metering, PriceTable prices, String model, boolean beta, Allowed allowed) {
        this.strict = mapper.reader().with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        this.metering = metering;
        this.prices = prices;
        this.model = model;
        this.beta = beta;
        this.allowed = allowed;
        this.createIdPrefix = "event_gw_" + HexFormat.of().toHexDigits(RANDOM.nextLong()) + "_";
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

    /**
     * The upstream's {@code error} event as the client is to see it: one about a response.create
     * forwarded under a gateway id names the client's own id (or none) instead; any other as it came.
     */
    ByteBuffer errorForClient(ByteBuffer message, JsonNode event) {
        String about = event.path("error").path("event_id").asText("");
        String clientId;
        synchronized (clientIds) {
            clientId = clientIds.remove(about);
        }
        if (clientId == null || !(event.deepCopy() instanceof ObjectNode copy) || !(copy.get("error") instanceof ObjectNode error)) {
            return message;
        }
        if (clientId.isEmpty()) {
            error.putNull("event_id");
        } else {
            error.put("event_id", clientId);
        }
        return utf8Of(copy);
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
        Refuse unseen = unseenInput(s, eventId);
        if (unseen != null) {
            return unseen;
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
        for (String field : new String[]{"instructions", "tools", "prompt"}) {
            if (s.has(field)) {
                metering.textAdded(utf8(s.get(field).toString()));
            }
        }
        long requested = requestedLimit(s);
        if (requested == NO_LIMIT_GIVEN) {
            return new Forward(frame);
        }
        // the session clamp, 2 s of audio ahead, so that a response server VAD starts at the end of
        // audio still streaming in is within it; the metering's own clamp is then this one
        s.put(RealtimeEvents.sessionOutputLimit(beta), metering.clientSessionLimit(requested));
        return new Forward(utf8Of(event));
    }

    private static final long NO_LIMIT_GIVEN = -1;

    /** The client's output limit under any of its names (removed), the least if several; {@link #NO_LIMIT_GIVEN} if none. */
    private static long requestedLimit(ObjectNode params) {
        long requested = NO_LIMIT_GIVEN;
        for (String field : RealtimeEvents.OUTPUT_LIMIT_FIELDS) {
            JsonNode v = params.remove(field);
            if (v != null) {
                requested = requested == NO_LIMIT_GIVEN ? limit(v) : Math.min(requested, limit(v));
            }
        }
        return requested;
    }

    /**
     * A refusal of tools of a type not allowed, or of a stored prompt reference when those are not
     * allowed: the relay cannot see what they add to the input. Null when there is neither.
     */
    private Refuse unseenInput(ObjectNode params, String eventId) {
        for (JsonNode tool : params.path("tools")) {
            JsonNode t = tool.path("type");
            String type = t.isMissingNode() ? "function" : t.isTextual() ? t.asText() : t.toString();
            if (!allowed.toolTypes().contains(type.toLowerCase(Locale.ROOT))) {
                return new Refuse(TOOL_TYPE, "Tools of type '" + shorten(type) + "' are not allowed through this gateway", eventId);
            }
        }
        JsonNode prompt = params.path("prompt");
        if (!allowed.promptReferences() && !prompt.isMissingNode() && !prompt.isNull()) {
            return new Refuse(TOOL_TYPE, "Stored prompt references are not allowed through this gateway", eventId);
        }
        return null;
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
        Refuse unseen = unseenInput(response, eventId);
        if (unseen != null) {
            return unseen;
        }
        for (String field : new String[]{"instructions", "input", "tools", "prompt"}) {
            if (response.has(field)) {
                metering.textAdded(utf8(response.get(field).toString()));
            }
        }
        metering.repeatedItemReferences(repeatedReferences(response.path("input")));
        long requested = requestedLimit(response);
        String id;
        synchronized (clientIds) {
            id = createIdPrefix + (++creates);
        }
        event.put("event_id", id);
        return switch (metering.startResponse(id, requested == NO_LIMIT_GIVEN ? Long.MAX_VALUE : requested, scope(response))) {
            case ACTIVE_RESPONSE -> new Refuse(ACTIVE_RESPONSE,
                    "Conversation already has an active response in progress", eventId);
            case UNAFFORDABLE -> END;
            case FORWARD -> {
                synchronized (clientIds) {
                    clientIds.put(id, eventId == null ? "" : eventId);
                }
                response.put(RealtimeEvents.responseOutputLimit(beta), metering.lastClamp());
                yield new Forward(utf8Of(event));
            }
        };
    }

    /** What a response reads and where its answer goes: {@code conversation: "none"}, its own {@code input}, or the conversation. */
    static ResponseBudget.Scope scope(JsonNode response) {
        if ("none".equals(response.path("conversation").asText(null))) {
            return ResponseBudget.Scope.OUT_OF_BAND;
        }
        return response.has("input") ? ResponseBudget.Scope.OWN_INPUT : ResponseBudget.Scope.CONVERSATION;
    }

    /** References to conversation items ({@code item_reference}, at any depth) beyond the first to each item. */
    static long repeatedReferences(JsonNode input) {
        List<String> ids = new ArrayList<>();
        collectReferences(input, ids);
        return ids.size() - new HashSet<>(ids).size();
    }

    private static void collectReferences(JsonNode node, List<String> ids) {
        if (node.isObject() && "item_reference".equals(node.path("type").asText())) {
            ids.add(node.path("id").asText(""));
        }
        if (node.isContainerNode()) {
            node.forEach(child -> collectReferences(child, ids));
        }
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

package ducke.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;

/**
 * A browser's WebRTC call offer, in either shape the provider's {@code POST /v1/realtime/calls}
 * takes: the SDP alone ({@code application/sdp}, the official SDK's), or the multipart "unified
 * interface" with an {@code sdp} part and a {@code session} part (the session's configuration as
 * JSON). Pure: parsing, validation and the provider's request body the guard sends instead
 * ({@link #forProvider}), with the session's model and output clamp set by the guard.
 *
 * @param session the client's session configuration, or null when it sent none
 */
record CallOffer(String sdp, ObjectNode session) {

    /** The largest offer taken: an SDP offer of a browser is a few KiB. */
    static final int MAX_BYTES = 64 * 1024;

    private static final SecureRandom RANDOM = new SecureRandom();

    /** A malformed offer; the message is the sentence of a 400. */
    static final class Invalid extends Exception {
        private final int status;

        Invalid(String message) {
            this(400, message);
        }

        Invalid(int status, String message) {
            super(message);
            this.status = status;
        }

        /** 400, or 413 for an offer too large to read. */
        int status() {
            return status;
        }
    }

    /** Parses the request body of {@code contentType}. */
    static CallOffer parse(String contentType, byte[] body, ObjectMapper mapper) throws Invalid {
        if (contentType == null || contentType.isBlank()) {
            throw new Invalid("Content-Type must be application/sdp or multipart/form-data (sdp, session)");
        }
        String type = contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if (type.equals("application/sdp")) {
            return new CallOffer(sdp(new String(body, StandardCharsets.UTF_8)), null);
        }
        if (!type.equals("multipart/form-data")) {
            throw new Invalid("Content-Type must be application/sdp or multipart/form-data (sdp, session), not " + type);
        }
        String boundary = parameter(contentType, "boundary");
        if (boundary == null || boundary.isEmpty() || boundary.length() > 200) {
            throw new Invalid("multipart/form-data needs a boundary");
        }
        String sdp = null;
        ObjectNode session = null;
        for (Part p : parts(new String(body, StandardCharsets.UTF_8), boundary)) {
            switch (p.name()) {
                case "sdp" -> {
                    if (sdp != null) {
                        throw new Invalid("The sdp part is given twice");
                    }
                    sdp = sdp(p.body());
                }
                case "session" -> {
                    if (session != null) {
                        throw new Invalid("The session part is given twice");
                    }
                    session = session(p.body(), mapper);
                }
                default -> throw new Invalid("Unknown part " + shorten(p.name()) + "; a call offer has sdp and session");
            }
        }
        if (sdp == null) {
            throw new Invalid("The sdp part is missing");
        }
        return new CallOffer(sdp, session);
    }

    /** The model the client's session configuration names, or null. */
    String requestedModel() {
        if (session == null) {
            return null;
        }
        JsonNode m = session.get("model");
        return m != null && m.isTextual() ? m.asText() : null;
    }

    /** The first tool of a type not in {@code allowedTypes}, as a sentence; null when all are allowed. */
    String forbiddenTool(Set<String> allowedTypes) {
        if (session == null) {
            return null;
        }
        for (JsonNode tool : session.path("tools")) {
            String type = tool.path("type").asText("");
            if (!allowedTypes.contains(type)) {
                return "Tools of type " + shorten(type.isEmpty() ? "(none)" : type) + " are not allowed; allowed: "
                        + String.join(", ", allowedTypes.stream().sorted().toList());
            }
        }
        return null;
    }

    /**
     * The session configuration the provider gets: the client's, with the guard's model and output
     * clamp; a realtime (not transcription) session.
     */
    ObjectNode providerSession(ObjectMapper mapper, String model, long maxOutputTokens) {
        ObjectNode s = session == null ? mapper.createObjectNode() : session.deepCopy();
        s.put("type", "realtime");
        s.put("model", model);
        s.remove(RealtimeEvents.MAX_RESPONSE_OUTPUT_TOKENS);
        s.put(RealtimeEvents.MAX_OUTPUT_TOKENS, maxOutputTokens);
        return s;
    }

    /** A multipart body for the provider ({@code sdp} + {@code session}), and its content type. */
    record Body(String contentType, byte[] bytes) {
    }

    Body forProvider(ObjectMapper mapper, String model, long maxOutputTokens) {
        byte[] b = new byte[12];
        RANDOM.nextBytes(b);
        String boundary = "ducke-" + HexFormat.of().formatHex(b);
        String session;
        try {
            session = mapper.writeValueAsString(providerSession(mapper, model, maxOutputTokens));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        String body = "--" + boundary + "\r\n"
                + "Content-Disposition: form-data; name=\"sdp\"\r\n"
                + "Content-Type: application/sdp\r\n\r\n"
                + sdp + "\r\n"
                + "--" + boundary + "\r\n"
                + "Content-Disposition: form-data; name=\"session\"\r\n"
                + "Content-Type: application/json\r\n\r\n"
                + session + "\r\n"
                + "--" + boundary + "--\r\n";
        return new Body("multipart/form-data; boundary=" + boundary, body.getBytes(StandardCharsets.UTF_8));
    }

    // ---- parsing ----

    private record Part(String name, String body) {
    }

    private static String sdp(String text) throws Invalid {
        String s = text.strip();
        if (!s.startsWith("v=0")) {
            throw new Invalid("The offer is not an SDP session description (it must start with v=0)");
        }
        if (!s.contains("\nm=")) {
            throw new Invalid("The SDP offer has no media section");
        }
        return s + "\r\n";
    }

    private static ObjectNode session(String text, ObjectMapper mapper) throws Invalid {
        JsonNode n;
        try {
            n = mapper.readTree(text);
        } catch (Exception e) {
            throw new Invalid("The session part is not JSON");
        }
        if (!(n instanceof ObjectNode o)) {
            throw new Invalid("The session part must be a JSON object");
        }
        JsonNode type = o.get("type");
        if (type != null && !"realtime".equals(type.asText())) {
            throw new Invalid("Only realtime sessions are taken over WebRTC calls (session.type \"realtime\")");
        }
        JsonNode tools = o.get("tools");
        if (tools != null && !(tools instanceof ArrayNode)) {
            throw new Invalid("session.tools must be an array");
        }
        return o;
    }

    private static java.util.List<Part> parts(String body, String boundary) throws Invalid {
        String delimiter = "--" + boundary;
        java.util.List<Part> parts = new java.util.ArrayList<>();
        int at = body.indexOf(delimiter);
        if (at < 0) {
            throw new Invalid("The multipart body has no part");
        }
        while (true) {
            int afterDelimiter = at + delimiter.length();
            if (body.startsWith("--", afterDelimiter)) {
                break; // the closing delimiter
            }
            int headersStart = body.indexOf("\r\n", afterDelimiter);
            int next = body.indexOf("\r\n" + delimiter, afterDelimiter);
            if (headersStart < 0 || next < 0) {
                throw new Invalid("The multipart body is not closed by its boundary");
            }
            int headersEnd = body.indexOf("\r\n\r\n", headersStart);
            if (headersEnd < 0 || headersEnd + 4 > next) {
                throw new Invalid("A part of the multipart body has no header block");
            }
            String headers = body.substring(headersStart + 2, headersEnd);
            String name = null;
            for (String h : headers.split("\r\n")) {
                int colon = h.indexOf(':');
                if (colon > 0 && h.substring(0, colon).strip().equalsIgnoreCase("Content-Disposition")) {
                    name = parameter(h.substring(colon + 1), "name");
                }
            }
            if (name == null) {
                throw new Invalid("A part of the multipart body has no name");
            }
            parts.add(new Part(name, body.substring(headersEnd + 4, next)));
            at = next + 2;
            if (parts.size() > 4) {
                throw new Invalid("A call offer has two parts: sdp and session");
            }
        }
        return parts;
    }

    /** A parameter of a header value ({@code ; name="value"} or {@code ; name=value}), or null. */
    static String parameter(String header, String name) {
        for (String p : header.split(";")) {
            int eq = p.indexOf('=');
            if (eq > 0 && p.substring(0, eq).strip().equalsIgnoreCase(name)) {
                String v = p.substring(eq + 1).strip();
                if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
                    v = v.substring(1, v.length() - 1);
                }
                return v;
            }
        }
        return null;
    }

    private static String shorten(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "…" : s;
    }
}

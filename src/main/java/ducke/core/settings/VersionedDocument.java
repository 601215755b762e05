package ducke.core.settings;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The cluster's settings as the grid holds them: a version number and the canonical document
 * (JSON text in the shape of config.yml's sections). Its wire form starts with a wire-version
 * byte, so that a later form can be told apart: {@code [WIRE_VERSION][version: 8 bytes][UTF-8 JSON]}.
 */
public record VersionedDocument(long version, String json) {

    /** The only wire form this node writes and reads. */
    public static final byte WIRE_VERSION = 1;

    public VersionedDocument {
        if (version < 1 || json == null) {
            throw new IllegalArgumentException("a settings document has a version from 1 and a text");
        }
    }

    public byte[] encode() {
        byte[] text = json.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(1 + 8 + text.length).put(WIRE_VERSION).putLong(version).put(text).array();
    }

    /** @throws IllegalArgumentException for bytes of another wire version, or too short to be a document */
    public static VersionedDocument decode(byte[] bytes) {
        if (bytes == null || bytes.length < 9) {
            throw new IllegalArgumentException("not a settings document");
        }
        if (bytes[0] != WIRE_VERSION) {
            throw new IllegalArgumentException("settings document of wire version " + bytes[0] + "; this node reads "
                    + WIRE_VERSION);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        b.get();
        long version = b.getLong();
        return new VersionedDocument(version, new String(bytes, 9, bytes.length - 9, StandardCharsets.UTF_8));
    }
}

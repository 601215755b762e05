package ducke.relay;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Turns the data frames of one direction into whole messages, as bytes. A message in one frame
 * (what the SDKs and the provider send) is copied once into a buffer of its own, so the network
 * buffer can be released at once; a fragmented one (a TEXT or BINARY frame without FIN, then
 * CONTINUATION frames) is joined in order, bounded by the largest message allowed. Nothing is
 * decoded: text stays UTF-8. Not thread-safe: one per direction, fed by one reader at a time.
 */
final class MessageAssembler {

    /** A whole message: a text message's payload is its UTF-8 bytes. */
    record Message(boolean text, ByteBuffer payload) {
    }

    /**
     * The message grew past the largest allowed; its fragments are dropped, those still to come too
     * (up to its last). {@link #prefix()}: its first bytes, enough to tell what it was.
     */
    static final class TooLarge extends Exception {
        private final transient ByteBuffer prefix;

        TooLarge(ByteBuffer prefix) {
            super("message too large", null, false, false);
            this.prefix = prefix;
        }

        ByteBuffer prefix() {
            return prefix;
        }
    }

    /** How much of a message over the limit is kept to tell what it was. */
    static final int PREFIX_BYTES = 4096;

    static final byte CONTINUATION = 0;
    static final byte TEXT = 1;
    static final byte BINARY = 2;

    private final long maxBytes;
    private boolean inMessage;
    private boolean text;
    private byte[] parts = new byte[0];
    private int size;
    /** In the middle of a message over the limit: its fragments are dropped up to its last. */
    private boolean skipping;

    MessageAssembler(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /**
     * Takes one data frame; returns the message it completes, or null when more fragments follow.
     * The payload is read from its position to its limit and not kept.
     *
     * @throws TooLarge when the message is longer than allowed (the assembler is then empty again)
     * @throws IllegalStateException for fragments out of order (a WebSocket protocol error)
     */
    Message accept(byte opCode, ByteBuffer payload, boolean fin) throws TooLarge {
        int length = payload == null ? 0 : payload.remaining();
        if (skipping && opCode == CONTINUATION) {
            skipping = !fin;
            return null;
        }
        skipping = false;
        if (opCode == CONTINUATION) {
            if (!inMessage) {
                throw new IllegalStateException("a continuation frame without a message to continue");
            }
        } else {
            if (inMessage) {
                throw new IllegalStateException("a new message before the last one ended");
            }
            if (opCode != TEXT && opCode != BINARY) {
                throw new IllegalArgumentException("not a data frame: " + opCode);
            }
            text = opCode == TEXT;
            if (fin) {
                if (length > maxBytes) {
                    throw new TooLarge(copy(payload, Math.min(length, PREFIX_BYTES)));
                }
                return new Message(text, copy(payload, length));
            }
            inMessage = true;
            size = 0;
        }
        if (size + (long) length > maxBytes) {
            byte[] prefix = new byte[(int) Math.min(PREFIX_BYTES, size + (long) length)];
            int fromParts = Math.min(size, prefix.length);
            System.arraycopy(parts, 0, prefix, 0, fromParts);
            if (prefix.length > fromParts) {
                payload.duplicate().get(prefix, fromParts, prefix.length - fromParts);
            }
            reset();
            skipping = !fin;
            throw new TooLarge(ByteBuffer.wrap(prefix));
        }
        if (size + length > parts.length) {
            parts = Arrays.copyOf(parts, (int) Math.min(maxBytes, Math.max(2L * parts.length, size + (long) length)));
        }
        if (length > 0) {
            payload.duplicate().get(parts, size, length);
        }
        size += length;
        if (!fin) {
            return null;
        }
        Message whole = new Message(text, ByteBuffer.wrap(Arrays.copyOf(parts, size)));
        reset();
        return whole;
    }

    private void reset() {
        inMessage = false;
        size = 0;
        parts = new byte[0];
    }

    private static ByteBuffer copy(ByteBuffer payload, int length) {
        byte[] bytes = new byte[length];
        if (length > 0) {
            payload.duplicate().get(bytes);
        }
        return ByteBuffer.wrap(bytes);
    }
}

package ducke.journal;

import ducke.core.cost.ChargeId;
import ducke.core.cost.ChargeJournal;
import ducke.core.cost.EndReason;
import ducke.core.cost.TokenUsage;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The payload of one journal record: a version byte, a kind byte, the entry's id and time, then
 * the kind's fields in a fixed order. Strings are a length (-1: null) and UTF-8 bytes; optional
 * numbers a presence byte and the number.
 *
 * <p>Extending: a field is only ever added at the end of a kind's fields. Raise {@link #VERSION},
 * write the new field last, and read it only from records whose version is at least the new one
 * (older records get its default). A record of a version above {@link #VERSION} was written by a
 * newer build: it is refused, never skipped, since it holds money.
 */
final class JournalCodec {

    /** The version this build writes, and the highest it reads. */
    /** 2: a usage entry ends with its charge key (an idempotency key, or null). */
    static final int VERSION = 2;

    private static final byte USAGE = 'U';
    private static final byte CHARGE = 'C';
    private static final byte SPEND = 'S';
    private static final byte END = 'E';
    private static final byte APPLIED = 'A';

    /** What one record holds: an entry, or the mark that the entry {@code id} was applied. */
    sealed interface Record permits Entry, Applied {
    }

    record Entry(ChargeJournal.Entry entry) implements Record {
    }

    record Applied(ChargeId id) implements Record {
    }

    /** The record cannot be read by this build. */
    static final class UnreadableRecord extends IOException {
        UnreadableRecord(String message) {
            super(message);
        }
    }

    private JournalCodec() {
    }

    static byte[] entry(ChargeJournal.Entry e) {
        return write(out -> {
            if (e instanceof ChargeJournal.Usage u) {
                head(out, USAGE, u.id(), u.atMillis());
                string(out, u.sessionId());
                string(out, u.clientId());
                string(out, u.sessionModel());
                string(out, u.reportedModel());
                usage(out, u.usage());
                string(out, u.chargeKey());
            } else if (e instanceof ChargeJournal.Charge c) {
                head(out, CHARGE, c.id(), c.atMillis());
                string(out, c.sessionId());
                string(out, c.clientId());
                string(out, c.sessionModel());
                out.writeLong(c.costNanoUsd());
            } else if (e instanceof ChargeJournal.Spend s) {
                head(out, SPEND, s.id(), s.atMillis());
                string(out, s.clientId());
                out.writeLong(s.costNanoUsd());
            } else {
                ChargeJournal.End end = (ChargeJournal.End) e;
                head(out, END, end.id(), end.atMillis());
                string(out, end.sessionId());
                string(out, end.reason().label());
            }
        });
    }

    static byte[] applied(ChargeId id) {
        return write(out -> {
            out.writeByte(VERSION);
            out.writeByte(APPLIED);
            id(out, id);
        });
    }

    static Record read(byte[] payload) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload));
        try {
            int version = in.readUnsignedByte();
            if (version < 1 || version > VERSION) {
                throw new UnreadableRecord("a record of version " + version + " (this build reads up to " + VERSION
                        + "; it was written by a newer build)");
            }
            byte kind = in.readByte();
            if (kind == APPLIED) {
                return new Applied(id(in));
            }
            ChargeId id = id(in);
            long atMillis = in.readLong();
            return new Entry(switch (kind) {
                case USAGE -> new ChargeJournal.Usage(id, atMillis, string(in), string(in), string(in), string(in), usage(in),
                        version >= 2 ? string(in) : null);
                case CHARGE -> new ChargeJournal.Charge(id, atMillis, string(in), string(in), string(in), in.readLong());
                case SPEND -> new ChargeJournal.Spend(id, atMillis, string(in), in.readLong());
                case END -> new ChargeJournal.End(id, atMillis, string(in), EndReason.fromLabel(string(in)));
                default -> throw new UnreadableRecord("a record of unknown kind " + kind);
            });
        } catch (EOFException e) {
            throw new UnreadableRecord("a record shorter than its kind");
        } catch (IllegalArgumentException e) {
            throw new UnreadableRecord("a record with an impossible value: " + e.getMessage());
        }
    }

    private interface Writing {
        void to(DataOutputStream out) throws IOException;
    }

    private static byte[] write(Writing w) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            w.to(out);
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory cannot fail", e);
        }
        return bytes.toByteArray();
    }

    private static void head(DataOutputStream out, byte kind, ChargeId id, long atMillis) throws IOException {
        out.writeByte(VERSION);
        out.writeByte(kind);
        id(out, id);
        out.writeLong(atMillis);
    }

    private static void id(DataOutputStream out, ChargeId id) throws IOException {
        string(out, id.writer());
        out.writeLong(id.seq());
    }

    private static ChargeId id(DataInputStream in) throws IOException {
        String writer = string(in);
        return new ChargeId(writer, in.readLong());
    }

    private static void usage(DataOutputStream out, TokenUsage u) throws IOException {
        out.writeLong(u.inputTokens());
        out.writeLong(u.outputTokens());
        for (Long v : new Long[]{u.textInput(), u.audioInput(), u.cachedInput(), u.cachedAudioInput(), u.textOutput(),
                u.audioOutput(), u.durationMillis()}) {
            optional(out, v);
        }
    }

    private static TokenUsage usage(DataInputStream in) throws IOException {
        return new TokenUsage(in.readLong(), in.readLong(), optional(in), optional(in), optional(in), optional(in),
                optional(in), optional(in), optional(in));
    }

    private static void string(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String string(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n == -1) {
            return null;
        }
        if (n < 0 || n > in.available()) {
            throw new UnreadableRecord("a string longer than its record");
        }
        return new String(in.readNBytes(n), StandardCharsets.UTF_8);
    }

    private static void optional(DataOutputStream out, Long v) throws IOException {
        out.writeBoolean(v != null);
        out.writeLong(v == null ? 0 : v);
    }

    private static Long optional(DataInputStream in) throws IOException {
        boolean present = in.readBoolean();
        long v = in.readLong();
        return present ? v : null;
    }
}

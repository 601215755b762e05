package ducke.journal;

import ducke.core.cost.ChargeId;
import ducke.core.cost.ChargeJournal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.zip.CRC32C;

/**
 * The charge journal on local disk: {@value #FILE} in the node's data directory, append-only. The
 * file is a header ({@code DUCKEJNL}) and records, each a length, a CRC32C of its payload and the
 * payload ({@link JournalCodec}): an entry, or the mark that an entry was applied.
 *
 * <p>Durability: {@link #sync} forces the file to the disk ({@code fsync}) before an entry is
 * accepted; appenders that arrive while a force is under way are covered by the next one (group
 * commit), so no entry is acknowledged before it is on disk. Applied marks are not forced: after a
 * crash an entry may be applied again, which changes nothing (its {@link ChargeId}).
 *
 * <p>A crash can leave the last record cut short: on opening, a record whose length runs past the
 * end of the file or whose checksum does not match ends the file there; it is logged and dropped
 * (it was never acknowledged). The file never grows without bound: when every entry has been
 * applied it is cut back to its header, and when applied records outnumber waiting ones (and are
 * more than {@value #COMPACT_AFTER}) the waiting ones are rewritten to a new file that replaces it
 * atomically. It thus holds at most the journal's capacity of waiting entries, plus as many applied
 * ones and their marks, plus {@value #COMPACT_AFTER} records.
 *
 * <p>One process at a time: {@value #LOCK} is locked while the file is open; a second process
 * with the same data directory is refused at start. Thread-safe.
 */
public final class JournalFile implements ChargeJournal.Store, Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(JournalFile.class);

    public static final String FILE = "charges.journal";
    public static final String LOCK = "charges.journal.lock";
    static final byte[] HEADER = "DUCKEJNL".getBytes(StandardCharsets.US_ASCII);
    /** A record's length and checksum. */
    static final int RECORD_HEAD = 8;
    /** No entry comes near this; a longer length is a damaged record. */
    static final int MAX_PAYLOAD = 1 << 20;
    static final int COMPACT_AFTER = 4096;

    /** The journal cannot be used: held by another process, or written by a newer build. */
    public static final class Unavailable extends IOException {
        Unavailable(String message) {
            super(message);
        }
    }

    private final Path file;
    private final int compactAfter;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final List<ChargeJournal.Entry> restored;
    private FileChannel channel;
    /** Records in the file that no longer matter (applied entries and their marks). */
    private int dead;
    /** Records written, and how many of them are known to be on disk: the tickets of {@link #sync}. */
    private long written;
    private final AtomicLong synced = new AtomicLong();
    private final Object forcing = new Object();

    private JournalFile(Path file, int compactAfter, FileChannel lockChannel, FileLock lock, List<ChargeJournal.Entry> restored) {
        this.file = file;
        this.compactAfter = compactAfter;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.restored = restored;
    }

    /**
     * Opens (or creates) the journal in {@code dir}, locks it for this process, and reads what an
     * earlier process left: the entries it did not apply, oldest first ({@link #restored}).
     *
     * @throws Unavailable another process holds it, or it holds records this build cannot read
     */
    public static JournalFile open(Path dir) throws IOException {
        return open(dir, COMPACT_AFTER);
    }

    /** The same, rewriting the file once {@code compactAfter} records no longer matter (and outnumber those that do). */
    static JournalFile open(Path dir, int compactAfter) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(FILE);
        FileChannel lockChannel = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            lockChannel.close();
            throw new Unavailable("Cannot start: another process uses the charge journal in " + dir.toAbsolutePath()
                    + " (DUCKE_DATA_DIR, dataDir). Each node needs a data directory of its own; stop the other process "
                    + "or give this one another directory.");
        }
        try {
            JournalFile j = new JournalFile(file, compactAfter, lockChannel, lock, read(file));
            j.rewrite(j.restored);
            return j;
        } catch (IOException | RuntimeException e) {
            lock.release();
            lockChannel.close();
            throw e;
        }
    }

    /** Entries an earlier process journaled and did not apply, oldest first. */
    public List<ChargeJournal.Entry> restored() {
        return restored;
    }

    public Path path() {
        return file;
    }

    private static List<ChargeJournal.Entry> read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        byte[] all = Files.readAllBytes(file);
        if (all.length < HEADER.length) {
            LOG.warn("Charge journal {}: {} bytes, shorter than its header (a crash as it was created); starting it anew",
                    file, all.length);
            return List.of();
        }
        for (int i = 0; i < HEADER.length; i++) {
            if (all[i] != HEADER[i]) {
                throw new Unavailable("Cannot start: " + file.toAbsolutePath() + " is not a charge journal (its header is "
                        + "wrong). Move it away if it is not needed.");
            }
        }
        Map<ChargeId, ChargeJournal.Entry> entries = new LinkedHashMap<>();
        ByteBuffer in = ByteBuffer.wrap(all, HEADER.length, all.length - HEADER.length);
        while (in.hasRemaining()) {
            int at = in.position();
            byte[] payload = next(in);
            if (payload == null) {
                LOG.warn("Charge journal {}: the last record ({} bytes at offset {}) is incomplete or damaged, as a crash "
                        + "while writing leaves it; it was never acknowledged and is skipped", file, all.length - at, at);
                break;
            }
            try {
                JournalCodec.Record r = JournalCodec.read(payload);
                if (r instanceof JournalCodec.Entry e) {
                    entries.put(e.entry().id(), e.entry());
                } else if (r instanceof JournalCodec.Applied a) {
                    entries.remove(a.id());
                }
            } catch (JournalCodec.UnreadableRecord e) {
                throw new Unavailable("Cannot start: the charge journal " + file.toAbsolutePath() + " holds " + e.getMessage()
                        + " at offset " + at + ". Start the build that wrote it, so that it applies its journal.");
            }
        }
        return List.copyOf(entries.values());
    }

    /** The next record's payload, or null when the rest of the buffer is not a whole, intact record. */
    private static byte[] next(ByteBuffer in) {
        if (in.remaining() < RECORD_HEAD) {
            return null;
        }
        int length = in.getInt();
        int crc = in.getInt();
        if (length < 1 || length > MAX_PAYLOAD || length > in.remaining()) {
            return null;
        }
        byte[] payload = new byte[length];
        in.get(payload);
        return crc(payload) == crc ? payload : null;
    }

    private static int crc(byte[] payload) {
        CRC32C c = new CRC32C();
        c.update(payload);
        return (int) c.getValue();
    }

    private static ByteBuffer record(byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(RECORD_HEAD + payload.length);
        b.putInt(payload.length).putInt(crc(payload)).put(payload).flip();
        return b;
    }

    @Override
    public synchronized long write(ChargeJournal.Entry e) throws IOException {
        try {
            append(record(JournalCodec.entry(e)));
        } catch (IOException failed) {
            LOG.error("Charge journal {}: cannot write an entry ({}); charges that need the journal are refused", file,
                    failed.toString());
            throw failed;
        }
        return ++written;
    }

    @Override
    public void sync(long ticket) throws IOException {
        synchronized (forcing) {
            if (synced.get() >= ticket) {
                return;
            }
            long upTo;
            FileChannel c;
            synchronized (this) {
                upTo = written;
                c = channel;
            }
            try {
                c.force(false);
            } catch (ClosedChannelException e) {
                // replaced by a rewrite, which forced what it kept, or closed
                if (synced.get() >= ticket) {
                    return;
                }
                throw e;
            } catch (IOException failed) {
                LOG.error("Charge journal {}: cannot force entries to the disk ({}); they are kept in memory and applied "
                        + "when the quorum is back, but would not survive a crash", file, failed.toString());
                throw failed;
            }
            synced.accumulateAndGet(upTo, Math::max);
        }
    }

    @Override
    public synchronized void applied(ChargeJournal.Entry e, int left, Supplier<List<ChargeJournal.Entry>> rest) {
        try {
            if (left == 0) {
                // nothing waits any more: back to the bare header
                channel.truncate(HEADER.length);
                channel.position(HEADER.length);
                dead = 0;
                return;
            }
            append(record(JournalCodec.applied(e.id())));
            dead += 2;
            if (dead >= compactAfter && dead > left) {
                rewrite(rest.get());
            }
        } catch (IOException failed) {
            // the mark is an optimisation: without it the entry is applied again after a restart, changing nothing
            LOG.warn("Charge journal {}: could not mark an entry applied ({}); it will be replayed again after a restart, "
                    + "which changes nothing", file, failed.toString());
        }
    }

    private void append(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    /** Replaces the file by one holding {@code entries} only, durably, and appends there from now on. */
    private synchronized void rewrite(List<ChargeJournal.Entry> entries) throws IOException {
        Path next = file.resolveSibling(FILE + ".next");
        try (FileChannel out = FileChannel.open(next, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer header = ByteBuffer.wrap(HEADER);
            while (header.hasRemaining()) {
                out.write(header);
            }
            for (ChargeJournal.Entry e : entries) {
                ByteBuffer b = record(JournalCodec.entry(e));
                while (b.hasRemaining()) {
                    out.write(b);
                }
            }
            out.force(true);
        }
        Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        forceDirectory();
        FileChannel old = channel;
        channel = FileChannel.open(file, StandardOpenOption.WRITE);
        channel.position(channel.size());
        dead = 0;
        synced.accumulateAndGet(written, Math::max);
        if (old != null) {
            old.close();
        }
    }

    /** Makes the rename durable (a directory can be opened for reading and forced on Linux). */
    private void forceDirectory() {
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            // not supported on this platform: the rename is as durable as the platform makes it
        }
    }

    /** Forces what was written, closes the file and gives up the lock. */
    @Override
    public synchronized void close() throws IOException {
        try {
            if (channel != null && channel.isOpen()) {
                channel.force(false);
                channel.close();
            }
        } finally {
            if (lock.isValid()) {
                lock.release();
            }
            lockChannel.close();
        }
    }
}

package ducke.journal;

import ducke.core.cost.ChargeId;
import ducke.core.cost.ChargeJournal;
import ducke.core.cost.EndReason;
import ducke.core.cost.TokenUsage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The charge journal's file: what one process wrote, the next one reads, whatever happened in between. */
class JournalFileTest {

    private static final long T0 = 1_700_000_040_000L;

    @TempDir
    Path dir;

    private final List<JournalFile> open = new ArrayList<>();

    @AfterEach
    void close() throws IOException {
        for (JournalFile f : open) {
            f.close();
        }
    }

    private JournalFile open() throws IOException {
        JournalFile f = JournalFile.open(dir);
        open.add(f);
        return f;
    }

    /** Closes the file as a stopping process does (a crash is a file left as written: see {@link #copyAsCrashed}). */
    private void closeAll() throws IOException {
        for (JournalFile f : open) {
            f.close();
        }
        open.clear();
    }

    private static ChargeJournal journal(JournalFile f) {
        return new ChargeJournal(100, f.restored(), f);
    }

    private static ChargeJournal.Entry usage(ChargeJournal j, String writer) {
        return j.append(seq -> new ChargeJournal.Usage(new ChargeId(writer, seq), T0 + seq, "sess_" + seq, "203.0.113.7",
                "gpt-realtime", null, new TokenUsage(1_000, 2_000, 600L, 400L, 100L, null, 500L, 1_500L)));
    }

    private long size() throws IOException {
        return Files.size(dir.resolve(JournalFile.FILE));
    }

    @Test
    void everyKindOfEntryIsReadBackAsWrittenWithItsWriter() throws IOException {
        ChargeJournal j = journal(open());
        List<ChargeJournal.Entry> written = List.of(
                usage(j, "node-a/1"),
                j.append(seq -> new ChargeJournal.Usage(new ChargeId("node-a/1", seq), T0, "sess_x", null, null, "gpt-5",
                        TokenUsage.durationSeconds(java.math.BigDecimal.valueOf(12.5)))),
                j.append(seq -> new ChargeJournal.Charge(new ChargeId("node-a/1", seq), T0, "sess_y", "client ü", "gpt-5", 7)),
                j.append(seq -> new ChargeJournal.Spend(new ChargeId("node-a/1", seq), T0, "client", 1_000_000_000L)),
                j.append(seq -> new ChargeJournal.End(new ChargeId("node-a/1", seq), T0, "sess_y", EndReason.CLUSTER_DEGRADED)));
        closeAll();

        assertThat(open().restored()).containsExactlyElementsOf(written);
    }

    @Test
    void entriesAreOnDiskBeforeTheyAreAccepted() throws IOException {
        ChargeJournal j = journal(open());
        ChargeJournal.Entry e = usage(j, "node-a/1");
        // read as the next process would after a crash now: no close, no flush of ours
        assertThat(copyAsCrashed().restored()).containsExactly(e);
    }

    /** The file as it is on disk now, opened in another directory by a process of its own (the lock stays here). */
    private JournalFile copyAsCrashed() throws IOException {
        Path other = Files.createDirectories(dir.resolveSibling(dir.getFileName() + "-crashed"));
        Files.copy(dir.resolve(JournalFile.FILE), other.resolve(JournalFile.FILE),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        JournalFile f = JournalFile.open(other);
        open.add(f);
        return f;
    }

    @Test
    void appliedEntriesAreNotRestored() throws IOException {
        ChargeJournal j = journal(open());
        usage(j, "node-a/1");
        ChargeJournal.Entry second = usage(j, "node-a/1");
        j.applied(j.oldest());
        closeAll();

        assertThat(open().restored()).containsExactly(second);
    }

    @Test
    void aTornLastRecordIsSkippedAndTheRestKept() throws IOException {
        ChargeJournal j = journal(open());
        ChargeJournal.Entry first = usage(j, "node-a/1");
        usage(j, "node-a/1");
        closeAll();
        long whole = size();
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve(JournalFile.FILE).toFile(), "rw")) {
            f.setLength(whole - 5);
        }

        JournalFile reopened = open();
        assertThat(reopened.restored()).containsExactly(first);
        ChargeJournal next = journal(reopened);
        ChargeJournal.Entry third = usage(next, "node-a/2");
        closeAll();
        assertThat(open().restored()).as("written after the torn record was cut off").containsExactly(first, third);
    }

    @Test
    void aRecordWhoseChecksumFailsEndsTheFile() throws IOException {
        ChargeJournal j = journal(open());
        ChargeJournal.Entry first = usage(j, "node-a/1");
        usage(j, "node-a/1");
        closeAll();
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve(JournalFile.FILE).toFile(), "rw")) {
            f.seek(f.length() - 3);
            int b = f.read();
            f.seek(f.length() - 3);
            f.write(b ^ 0x40);
        }
        assertThat(open().restored()).containsExactly(first);
    }

    @Test
    void aFileCutInsideItsHeaderStartsEmpty() throws IOException {
        Files.write(dir.resolve(JournalFile.FILE), new byte[]{'D', 'U', 'C'});
        assertThat(open().restored()).isEmpty();
    }

    @Test
    void aFileThatIsNoJournalIsRefused() throws IOException {
        Files.writeString(dir.resolve(JournalFile.FILE), "jdbc:h2 whatever this is");
        assertThatThrownBy(this::open).isInstanceOf(JournalFile.Unavailable.class).hasMessageContaining("not a charge journal");
    }

    @Test
    void aRecordOfANewerVersionIsRefusedNotSkipped() throws IOException {
        ChargeJournal j = journal(open());
        usage(j, "node-a/1");
        closeAll();
        byte[] all = Files.readAllBytes(dir.resolve(JournalFile.FILE));
        int payload = JournalFile.HEADER.length + JournalFile.RECORD_HEAD;
        all[payload] = (byte) (JournalCodec.VERSION + 1);
        // a checksum that matches, as the newer build would have written it
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(all, payload, all.length - payload);
        java.nio.ByteBuffer.wrap(all).putInt(JournalFile.HEADER.length + 4, (int) crc.getValue());
        Files.write(dir.resolve(JournalFile.FILE), all);

        assertThatThrownBy(this::open).isInstanceOf(JournalFile.Unavailable.class)
                .hasMessageContaining("version " + (JournalCodec.VERSION + 1)).hasMessageContaining("newer build");
    }

    @Test
    void theFileIsCutBackToItsHeaderOnceEverythingIsApplied() throws IOException {
        ChargeJournal j = journal(open());
        for (int i = 0; i < 50; i++) {
            usage(j, "node-a/1");
        }
        assertThat(size()).isGreaterThan(50 * 50);
        while (j.oldest() != null) {
            j.applied(j.oldest());
        }
        assertThat(size()).isEqualTo(JournalFile.HEADER.length);
        ChargeJournal.Entry after = usage(j, "node-a/1");
        closeAll();
        assertThat(open().restored()).containsExactly(after);
    }

    @Test
    void aJournalThatNeverEmptiesIsRewrittenWithWhatWaits() throws IOException {
        int compactAfter = 64;
        JournalFile file = JournalFile.open(dir, compactAfter);
        open.add(file);
        ChargeJournal j = new ChargeJournal(10_000, List.of(), file);
        // one entry always waits while hundreds come and go
        usage(j, "node-a/1");
        long perEntry = -1;
        for (int i = 0; i < 10 * compactAfter; i++) {
            usage(j, "node-a/1");
            j.applied(j.oldest());
            if (perEntry < 0) {
                perEntry = size() - JournalFile.HEADER.length;
            }
        }
        assertThat(j.size()).isEqualTo(1);
        assertThat(size()).as("bounded by the compaction threshold, not by what ever passed through")
                .isLessThan(JournalFile.HEADER.length + (long) compactAfter * perEntry);
        ChargeJournal.Entry waiting = j.oldest();
        closeAll();
        assertThat(open().restored()).containsExactly(waiting);
    }

    @Test
    void aSecondProcessWithTheSameDirectoryIsRefusedUntilTheFirstCloses() throws IOException {
        JournalFile first = open();
        assertThatThrownBy(() -> JournalFile.open(dir)).isInstanceOf(JournalFile.Unavailable.class)
                .hasMessageContaining("another process uses the charge journal").hasMessageContaining("DUCKE_DATA_DIR");
        first.close();
        open.remove(first);
        assertThat(open().restored()).isEmpty();
    }

    @Test
    void concurrentAppendersAreAllKeptInOrder() throws Exception {
        ChargeJournal j = new ChargeJournal(10_000, List.of(), open());
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 100; i++) {
                        assertThat(usage(j, "node-a/1")).isNotNull();
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        closeAll();
        List<ChargeJournal.Entry> restored = open().restored();
        assertThat(restored).hasSize(800);
        assertThat(restored.stream().mapToLong(ChargeJournal.Entry::seq)).isSorted();
    }
}

package ducke.config;

import ducke.core.cluster.ClusterUnavailableException;
import ducke.core.settings.SettingsStore;
import ducke.core.settings.VersionedDocument;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A node's start seeds or reads the cluster's settings: a grid call slower than its deadline (the
 * grid rebalancing while a member leaves and another joins) is tried again, up to
 * {@link SettingsSync#SEED_ATTEMPTS} calls; an attempt that took effect late is found by the next.
 */
class SettingsSeedTest {

    /** A store whose first {@code failures} seeds fail as an unanswered grid call does, the first of them after writing. */
    private static final class SlowStore implements SettingsStore {
        private final int failures;
        private final AtomicInteger calls = new AtomicInteger();
        private VersionedDocument held;

        SlowStore(int failures) {
            this.failures = failures;
        }

        @Override
        public VersionedDocument seed(VersionedDocument first) {
            int call = calls.incrementAndGet();
            VersionedDocument had = held;
            if (held == null) {
                held = first;
            }
            if (call <= failures) {
                throw new ClusterUnavailableException("The cluster did not answer within 10 ms while seeding", 1, null);
            }
            return had == null ? first : had;
        }

        @Override
        public VersionedDocument current() {
            return held;
        }

        @Override
        public boolean replace(VersionedDocument expected, VersionedDocument next) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void onChange(Consumer<VersionedDocument> listener) {
        }

        @Override
        public void onMerge(Consumer<VersionedDocument> listener) {
        }
    }

    private static final VersionedDocument MINE = new VersionedDocument(1, "{\"a\":1}");

    @Test
    void aSlowCallIsTriedAgainAndTheLateWriteIsFound() {
        SlowStore store = new SlowStore(SettingsSync.SEED_ATTEMPTS - 1);
        VersionedDocument got = SettingsSync.seed(store, MINE);
        assertThat(got.json()).isEqualTo(MINE.json());
        assertThat(got.version()).isEqualTo(1);
        assertThat(store.calls).hasValue(SettingsSync.SEED_ATTEMPTS);
    }

    @Test
    void theClustersDocumentIsTakenWhenItHasOne() {
        SlowStore store = new SlowStore(1);
        store.held = new VersionedDocument(7, "{\"a\":2}");
        assertThat(SettingsSync.seed(store, MINE)).isSameAs(store.held);
        assertThat(store.calls).hasValue(2);
    }

    @Test
    void aClusterThatNeverAnswersFailsTheStartAfterTheLastAttempt() {
        SlowStore store = new SlowStore(Integer.MAX_VALUE);
        assertThatThrownBy(() -> SettingsSync.seed(store, MINE)).isInstanceOf(ClusterUnavailableException.class)
                .hasMessageContaining("did not answer");
        assertThat(store.calls).hasValue(SettingsSync.SEED_ATTEMPTS);
    }
}

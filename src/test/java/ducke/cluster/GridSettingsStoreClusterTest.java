package ducke.cluster;

import ducke.core.settings.SettingsStore;
import ducke.core.settings.VersionedDocument;
import ducke.testing.Poll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/** The settings document in a real two-member grid: seeded once, replaced by compare-and-set, heard by every member. */
class GridSettingsStoreClusterTest {

    private List<ClusterNode> nodes = List.of();

    @AfterEach
    void stop() {
        nodes.forEach(ClusterNode::stop);
    }

    @Test
    void theFirstSeedWinsAndTwoAppliesFromOneVersionCannotBothWin() throws Exception {
        nodes = Members.start(2);
        SettingsStore a = nodes.get(0).settingsStore();
        SettingsStore b = nodes.get(1).settingsStore();
        List<Long> heardOnB = new CopyOnWriteArrayList<>();
        b.onChange(d -> heardOnB.add(d.version()));

        VersionedDocument first = new VersionedDocument(1, "{\"from\":\"a\"}");
        assertThat(a.seed(first)).isEqualTo(first);
        assertThat(b.seed(new VersionedDocument(1, "{\"from\":\"b\"}"))).as("the cluster keeps the first seed").isEqualTo(first);

        VersionedDocument fromA = new VersionedDocument(2, "{\"cap\":6}");
        VersionedDocument fromB = new VersionedDocument(2, "{\"cap\":7}");
        assertThat(a.replace(first, fromA)).isTrue();
        assertThat(b.replace(first, fromB)).as("B read version 1 too: it lost").isFalse();
        assertThat(b.current()).isEqualTo(fromA);
        Poll.until("B heard of version 2", Duration.ofSeconds(10), Duration.ofMillis(10), () -> heardOnB.contains(2L));
    }
}

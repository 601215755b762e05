package ducke.core.cluster;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ClusterHealthTest {

    private static final class Recorder implements ClusterHealth.Listener {
        final List<String> events = new ArrayList<>();

        @Override
        public void quorumLost() {
            events.add("lost");
        }

        @Override
        public void quorumRegained() {
            events.add("regained");
        }
    }

    @Test
    void theDefaultQuorumIsAMajorityOfTheListedMembers() {
        assertThat(ClusterHealth.majorityOf(0)).isEqualTo(1);
        assertThat(ClusterHealth.majorityOf(1)).isEqualTo(1);
        assertThat(ClusterHealth.majorityOf(2)).isEqualTo(2);
        assertThat(ClusterHealth.majorityOf(3)).isEqualTo(2);
        assertThat(ClusterHealth.majorityOf(4)).isEqualTo(3);
        assertThat(ClusterHealth.majorityOf(5)).isEqualTo(3);
    }

    @Test
    void aNodeOnItsOwnHoldsTheQuorum() {
        assertThat(ClusterHealth.alone().quorum()).isTrue();
        assertThat(new ClusterHealth(1, 0, 1, 0).quorum()).isTrue();
    }

    @Test
    void aNodeThatSeesTooFewMembersHasNoQuorumUntilTheyJoin() {
        ClusterHealth h = new ClusterHealth(2, 3, 1, 0);
        Recorder r = new Recorder();
        h.addListener(r);
        assertThat(h.quorum()).isFalse();
        h.membersSeen(2);
        assertThat(h.quorum()).isTrue();
        h.membersSeen(3);
        h.membersSeen(1);
        assertThat(h.quorum()).isFalse();
        h.membersSeen(1);
        assertThat(r.events).as("told once per change").containsExactly("regained", "lost");
    }

    @Test
    void membersStoppingGracefullyOneByOneLeaveTheLastWithAQuorum() {
        ClusterHealth last = new ClusterHealth(2, 3, 3, 0);
        Recorder r = new Recorder();
        last.addListener(r);
        last.memberDeparting();
        last.membersSeen(2);
        assertThat(last.required()).isEqualTo(2);
        assertThat(last.quorum()).isTrue();
        last.memberDeparting();
        last.membersSeen(1);
        assertThat(last.required()).isEqualTo(1);
        assertThat(last.quorum()).isTrue();
        assertThat(r.events).isEmpty();
    }

    @Test
    void aLateReportOfAMemberLeavingDoesNotUndoLaterDepartures() {
        ClusterHealth h = new ClusterHealth(2, 3, 3, 0);
        h.memberDeparting();
        h.memberDeparting();
        h.membersSeen(2);
        h.membersSeen(1);
        assertThat(h.required()).isEqualTo(1);
        assertThat(h.quorum()).isTrue();
    }

    @Test
    void aCrashedMemberLowersNothing() {
        ClusterHealth h = new ClusterHealth(2, 3, 3, 0);
        h.membersSeen(2);
        h.membersSeen(1);
        assertThat(h.required()).isEqualTo(2);
        assertThat(h.quorum()).isFalse();
    }

    @Test
    void membersRejoiningRaiseTheQuorumAgain() {
        ClusterHealth h = new ClusterHealth(2, 3, 3, 0);
        h.memberDeparting();
        h.membersSeen(2);
        h.memberDeparting();
        h.membersSeen(1);
        h.membersSeen(2);
        assertThat(h.expected()).isEqualTo(2);
        assertThat(h.required()).isEqualTo(2);
        h.membersSeen(3);
        assertThat(h.required()).isEqualTo(2);
        h.membersSeen(1);
        assertThat(h.quorum()).as("after a partition the lone member is a minority again").isFalse();
    }

    @Test
    void anExplicitQuorumShrinksInProportion() {
        ClusterHealth all = new ClusterHealth(3, 3, 3, 0);
        assertThat(all.quorumWith(2)).isFalse();
        all.memberDeparting();
        assertThat(all.required()).isEqualTo(2);
        ClusterHealth one = new ClusterHealth(1, 3, 1, 0);
        assertThat(one.quorum()).as("a quorum of one accepts split brain").isTrue();
    }

    /** However members depart, two disjoint parts of the cluster never both hold the quorum. */
    @Test
    void twoDisjointPartsNeverBothHoldTheQuorum() {
        for (int size = 1; size <= 9; size++) {
            for (int departed = 0; departed < size; departed++) {
                ClusterHealth h = new ClusterHealth(ClusterHealth.majorityOf(size), size, size, 0);
                for (int i = 0; i < departed; i++) {
                    h.memberDeparting();
                }
                int live = size - departed;
                for (int left = 0; left <= live; left++) {
                    assertThat(h.quorumWith(left) && h.quorumWith(live - left))
                            .as("size %d, %d departed, split %d | %d", size, departed, left, live - left).isFalse();
                }
            }
        }
    }
}

package ducke.core.cluster;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Whether the members this node sees hold a quorum, and who is told when that changes. Without a
 * quorum the grid refuses every read and change of cost state, so the minority side of a network
 * partition cannot spend on its own copy of the budgets.
 *
 * <p>The quorum is {@code minClusterSize} of {@code clusterSize} members. A member that stops
 * gracefully says so first ({@link #memberDeparting}); the cluster then expects one member less
 * and the quorum shrinks in proportion (rounded up), so the last member of a cluster stopped one by
 * one still holds a quorum and can write its sessions' records. A member that vanishes (crash,
 * partition) lowers nothing. While the quorum is a share above one half, two disjoint parts of the
 * cluster can never both hold it. Members seen raise the expected size again.
 *
 * <p>Thread-safe; listeners run on the thread that reports the change and must be quick.
 */
public final class ClusterHealth {

    /** Told of quorum changes. */
    public interface Listener {
        /** This node's part of the cluster fell below the quorum: cost state cannot change here. */
        void quorumLost();

        /** The quorum is back: members joined or a partition healed. */
        default void quorumRegained() {
        }
    }

    private final int minClusterSize;
    private final int clusterSize;
    private final long retryAfterMillis;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private int expected;
    private int members;
    private boolean quorum;

    /**
     * @param minClusterSize   members needed while all {@code clusterSize} are expected
     * @param clusterSize      members the cluster is made of (the listed members; at least 1)
     * @param members          members seen now
     * @param retryAfterMillis what a refused caller is told to wait: about the time a healed
     *                         partition takes to merge
     */
    public ClusterHealth(int minClusterSize, int clusterSize, int members, long retryAfterMillis) {
        if (minClusterSize < 1) {
            throw new IllegalArgumentException("a quorum needs at least one member");
        }
        this.minClusterSize = minClusterSize;
        this.clusterSize = Math.max(Math.max(1, clusterSize), minClusterSize);
        this.retryAfterMillis = retryAfterMillis;
        this.expected = this.clusterSize;
        this.members = members;
        this.quorum = members >= required();
    }

    /** A node on its own: quorum of one. */
    public static ClusterHealth alone() {
        return new ClusterHealth(1, 1, 1, 10_000);
    }

    /** The majority of {@code listedMembers} members; 1 when none are listed (a node on its own). */
    public static int majorityOf(int listedMembers) {
        return listedMembers <= 1 ? 1 : listedMembers / 2 + 1;
    }

    /** Members needed now: {@code minClusterSize} scaled to the members still expected, rounded up. */
    public synchronized int required() {
        return Math.max(1, (int) -Math.floorDiv(-(long) minClusterSize * expected, clusterSize));
    }

    /** Whether {@code count} members would hold the quorum now. */
    public synchronized boolean quorumWith(int count) {
        return count >= required();
    }

    public long retryAfterMillis() {
        return retryAfterMillis;
    }

    public synchronized int members() {
        return members;
    }

    public synchronized int expected() {
        return expected;
    }

    public synchronized boolean quorum() {
        return quorum;
    }

    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    /** The member count as this node sees it now. */
    public void membersSeen(int count) {
        update(false, count);
    }

    /** A member announced that it is stopping gracefully: expect one member less. */
    public void memberDeparting() {
        update(true, 0);
    }

    private void update(boolean departing, int count) {
        boolean before;
        boolean after;
        synchronized (this) {
            before = quorum;
            if (departing) {
                expected = Math.max(1, expected - 1);
            } else {
                // only members joining raise what is expected: a late report of a member leaving
                // must not undo the departures announced since
                if (count > members) {
                    expected = Math.max(expected, count);
                }
                members = count;
            }
            quorum = members >= required();
            after = quorum;
        }
        if (before && !after) {
            listeners.forEach(Listener::quorumLost);
        } else if (!before && after) {
            listeners.forEach(Listener::quorumRegained);
        }
    }
}

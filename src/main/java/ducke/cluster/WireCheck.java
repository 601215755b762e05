package ducke.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastInstance;
import ducke.core.cluster.WireMismatchException;
import ducke.core.cluster.WireRange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Admission of a node by the grid's wire versions, before it holds any data: every member announces
 * the versions it reads and writes ({@link WireVersion#RANGE}); a node joins only when all share
 * one, and then every member writes the newest shared version. The version follows the membership:
 * when the last member of an older release leaves, the others move on to their newest.
 */
final class WireCheck {

    private static final Logger LOG = LoggerFactory.getLogger(WireCheck.class);

    private WireCheck() {
    }

    /** Makes {@code config} announce this release's wire range. */
    static void prepare(Config config) {
        config.getMemberAttributeConfig().setAttribute(WireVersion.ATTRIBUTE, WireVersion.RANGE.encode());
    }

    /**
     * Checks every member's range against this release's, settles the version to write and keeps
     * it following the membership.
     *
     * @throws WireMismatchException naming a member this node cannot share a version with
     */
    static void admit(HazelcastInstance hz) {
        for (Member m : hz.getCluster().getMembers()) {
            if (m.localMember()) {
                continue;
            }
            WireRange theirs = WireRange.decode(m.getAttribute(WireVersion.ATTRIBUTE));
            if (theirs == null) {
                JoinCheck.awaitJoinCompleted(hz);
                throw new WireMismatchException(refusal(m, "announces no wire version: it is of a release from before "
                        + "wire versions, whose grid values this release cannot read. Upgrade from that release by stopping "
                        + "every node and starting them on this one (the first member rebuilds the hour's spend from the "
                        + "audit store)"));
            }
            if (WireRange.common(List.of(theirs, WireVersion.RANGE)).isEmpty()) {
                JoinCheck.awaitJoinCompleted(hz);
                throw new WireMismatchException(refusal(m, "reads and writes wire versions " + theirs.encode()
                        + ", this node " + WireVersion.RANGE.encode() + ": they share none. Upgrade through the release in "
                        + "between, one node at a time"));
            }
        }
        follow(hz);
        hz.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent event) {
                follow(hz);
            }

            @Override
            public void memberRemoved(MembershipEvent event) {
                follow(hz);
            }
        });
    }

    /** Writes the newest version every present member reads. */
    private static void follow(HazelcastInstance hz) {
        List<WireRange> ranges = new ArrayList<>();
        ranges.add(WireVersion.RANGE);
        Set<Member> members = hz.getCluster().getMembers();
        for (Member m : members) {
            WireRange r = WireRange.decode(m.getAttribute(WireVersion.ATTRIBUTE));
            if (r != null) {
                ranges.add(r);
            }
        }
        OptionalInt common = WireRange.common(ranges);
        if (common.isPresent() && common.getAsInt() != WireVersion.writing()) {
            LOG.info("Grid wire version {} from now on ({} member(s))", common.getAsInt(), members.size());
            WireVersion.use(common.getAsInt());
        }
    }

    private static String refusal(Member m, String why) {
        return "This node does not join: cluster member '" + m.getAttribute(JoinCheck.NODE_ATTRIBUTE) + "' at "
                + m.getAddress() + " " + why + ".";
    }
}

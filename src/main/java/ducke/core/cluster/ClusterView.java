package ducke.core.cluster;

/** What the rest of the service may know about the cluster, without knowing it is Hazelcast. */
public interface ClusterView {

    /** This node's name. */
    String nodeName();

    /** Name of the cluster this node belongs to. */
    String clusterName();

    /** Members this node currently sees, itself included; 0 when the member is not running. */
    int memberCount();

    /** This member's unique id in the cluster (changes when the node restarts). */
    String memberId();

    /** Whether the local member is running and part of an active cluster. */
    boolean healthy();

    /** Whether this node's part of the cluster holds the quorum cost state needs ({@link ClusterHealth}). */
    default boolean quorum() {
        return true;
    }
}

package ducke.cluster;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import ducke.core.cluster.WireRange;

import java.io.IOException;

/**
 * The version byte every value, processor and message this service puts on the grid starts with.
 * This release reads and writes {@link #RANGE}; it writes the version the whole cluster shares
 * ({@link WireRange#common}), which the membership listener keeps in {@link #use}. All members in one
 * process are of one release, so one value per process is right.
 *
 * <p>To change a format: add a version (raise {@code RANGE}'s newest), write the new form only when
 * {@code version} says so, keep reading and writing the old one, and add the old form's fixture
 * under {@code src/test/resources/wire/}; drop a version only one release after the one that stopped
 * writing it.
 */
final class WireVersion {

    /** What this release reads and writes. */
    static final WireRange RANGE = new WireRange(1, 1);
    /** The member attribute that announces {@link #RANGE}. */
    static final String ATTRIBUTE = "ducke.wire";

    private static volatile int writing = RANGE.newest();

    private WireVersion() {
    }

    /** The version this process writes now. */
    static int writing() {
        return writing;
    }

    /** Writes in {@code version} from now on: the newest the cluster's members share. */
    static void use(int version) {
        if (!RANGE.reads(version)) {
            throw new IllegalArgumentException("wire version " + version + " is outside " + RANGE.encode());
        }
        writing = version;
    }

    /** Writes the version byte; returns the version the body must be written in. */
    static int write(ObjectDataOutput out) throws IOException {
        int v = writing;
        out.writeByte(v);
        return v;
    }

    /** Reads the version byte of {@code what}; refuses a version this release cannot read. */
    static int read(ObjectDataInput in, String what) throws IOException {
        int v = in.readByte();
        if (!RANGE.reads(v)) {
            throw new IOException(what + " arrived in wire version " + v + "; this node reads " + RANGE.encode());
        }
        return v;
    }
}

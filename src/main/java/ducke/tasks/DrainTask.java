package ducke.tasks;

import ducke.core.drain.Drain;
import ducke.db.AuditJournal;
import ducke.relay.NodeDrain;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /tasks/drain}: starts this node's draining stop, as a first SIGTERM does — not ready,
 * new sessions refused (503 {@code node_draining}), live ones go on until none is left or the drain
 * timeout, then the node stops. Asking again changes nothing.
 */
public final class DrainTask extends JournaledTask {

    private final NodeDrain drain;

    public DrainTask(NodeDrain drain, AuditJournal journal) {
        super("drain", journal);
        this.drain = drain;
    }

    @Override
    protected void run(Map<String, List<String>> parameters, PrintWriter output) {
        boolean started = drain.start("admin task");
        Drain.Status s = drain.status();
        output.printf("%s since %s: %d relayed session(s) live; new sessions are refused (503 node_draining); "
                        + "the rest are ended at %s; the node stops once none is left%n",
                started ? "drain started" : "already draining", Instant.ofEpochMilli(s.startedAtMillis()),
                drain.liveSessions(), Instant.ofEpochMilli(s.deadlineMillis()));
    }
}

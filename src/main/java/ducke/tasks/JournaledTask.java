package ducke.tasks;

import ducke.db.AuditJournal;
import io.dropwizard.servlets.tasks.Task;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;

/**
 * An admin task whose every run (parameters, outcome) is recorded in the audit trail. Bad input
 * ({@link BadTaskInput}) is refused with one log line and a 400 answer, never a stack trace.
 */
public abstract class JournaledTask extends Task {

    private static final Logger LOG = LoggerFactory.getLogger(JournaledTask.class);

    private final AuditJournal journal;

    protected JournaledTask(String name, AuditJournal journal) {
        super(name);
        this.journal = journal;
    }

    /** The task itself; throw {@link BadTaskInput#reject} for bad parameters. */
    protected abstract void run(Map<String, List<String>> parameters, PrintWriter output) throws Exception;

    @Override
    public final void execute(Map<String, List<String>> parameters, PrintWriter output) throws Exception {
        StringWriter text = new StringWriter();
        String params = AdminActions.parameters(parameters);
        try (PrintWriter both = new PrintWriter(text)) {
            run(parameters, both);
        } catch (BadTaskInput e) {
            LOG.warn("Task {} refused: {}", getName(), e.getMessage());
            journal.adminAction(getName(), params, "refused: " + e.getMessage());
            BadTaskInput.refused(e.getMessage());
            return;
        } catch (Exception e) {
            journal.adminAction(getName(), params, "failed: " + BadTaskInput.printable(e.getMessage()));
            throw e;
        }
        output.print(text);
        journal.adminAction(getName(), params, text.toString().strip());
    }
}

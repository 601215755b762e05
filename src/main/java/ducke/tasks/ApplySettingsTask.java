package ducke.tasks;

import com.fasterxml.jackson.databind.node.ObjectNode;
import ducke.config.SettingsDocument;
import ducke.config.SettingsSync;
import ducke.core.cost.CostGuard;
import ducke.db.AuditJournal;
import io.dropwizard.servlets.tasks.PostBodyTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /tasks/apply-settings[?file=…][&apply_to_live=true][&by=…]} with a YAML or JSON body
 * (Content-Type {@code application/yaml} or {@code application/json}) in the shape of config.yml's
 * {@code prices}, {@code costProtection}, {@code rateLimits} and {@code clientIdentity} sections, or
 * a file on this node named by {@code file}: a JSON merge patch over the cluster's current settings,
 * validated whole, written as one new version that every node applies. Answers the new version and
 * each change; journaled with who asked, the changes and the version. A live session keeps its
 * cap unless {@code apply_to_live=true}.
 */
public final class ApplySettingsTask extends PostBodyTask {

    private static final Logger LOG = LoggerFactory.getLogger(ApplySettingsTask.class);
    /** Applies that lose the compare-and-set to another one are merged again over the newer version, this often. */
    private static final int ATTEMPTS = 3;
    private static final int MAX_BYTES = 1 << 20;

    private final SettingsSync settings;
    private final CostGuard guard;
    private final AuditJournal journal;

    public ApplySettingsTask(SettingsSync settings, CostGuard guard, AuditJournal journal) {
        super("apply-settings");
        this.settings = settings;
        this.guard = guard;
        this.journal = journal;
    }

    @Override
    public void execute(Map<String, List<String>> parameters, String body, PrintWriter output) {
        String who = TaskCaller.get() + by(parameters);
        try {
            String text = run(parameters, body, who);
            output.print(text);
            journal.adminAction(getName(), who, limit(text.strip()));
        } catch (BadTaskInput e) {
            LOG.warn("Task {} refused: {}", getName(), e.getMessage());
            journal.adminAction(getName(), who, limit("refused: " + e.getMessage()));
            BadTaskInput.refused(e.getMessage());
        }
    }

    private String run(Map<String, List<String>> parameters, String body, String who) {
        boolean toLive = flag(parameters, "apply_to_live");
        ObjectNode patch = patch(parameters, body);
        SettingsSync.Applied a = apply(patch);
        StringBuilder out = new StringBuilder();
        if (!a.changed()) {
            return out.append("settings version ").append(a.version()).append(": nothing changed\n").toString();
        }
        out.append("settings version ").append(a.version()).append(" applied (was ").append(a.previousVersion())
                .append("), ").append(a.changes().size()).append(a.changes().size() == 1 ? " change" : " changes").append(":\n");
        a.changes().forEach(c -> out.append("  ").append(c).append('\n'));
        long oldCap = a.before().build(a.previousVersion()).limits().maxSessionCostNanoUsd();
        long newCap = a.after().build(a.version()).limits().maxSessionCostNanoUsd();
        if (oldCap != newCap) {
            if (toLive) {
                out.append("live sessions: ").append(guard.recapLive(oldCap, newCap)).append(" moved to the new session cap\n");
            } else {
                out.append("live sessions keep their caps (apply_to_live=true moves them)\n");
            }
        }
        LOG.warn("Cluster settings: version {} applied by {}: {}", a.version(), who, String.join("; ", a.changes()));
        return out.toString();
    }

    private SettingsSync.Applied apply(ObjectNode patch) {
        for (int attempt = 1; ; attempt++) {
            try {
                return settings.apply(patch);
            } catch (SettingsDocument.Invalid e) {
                throw BadTaskInput.reject(e.getMessage());
            } catch (SettingsSync.Conflict e) {
                if (attempt == ATTEMPTS) {
                    throw BadTaskInput.reject(e.getMessage());
                }
            }
        }
    }

    private static ObjectNode patch(Map<String, List<String>> parameters, String body) {
        String file = single(parameters, "file");
        boolean hasBody = body != null && !body.isBlank();
        if (file != null && hasBody) {
            throw BadTaskInput.reject("Give the settings either as the body or as file=…, not both");
        }
        if (file == null && !hasBody) {
            throw BadTaskInput.reject("No settings given: send a YAML or JSON body (Content-Type application/yaml or "
                    + "application/json) or name a file with file=…");
        }
        String text = file == null ? body : read(file);
        try {
            return SettingsDocument.tree(text);
        } catch (SettingsDocument.Invalid e) {
            throw BadTaskInput.reject(e.getMessage());
        }
    }

    private static String read(String file) {
        try {
            Path p = Path.of(file);
            if (Files.size(p) > MAX_BYTES) {
                throw BadTaskInput.reject("The file " + file + " is larger than 1 MiB");
            }
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            if (e instanceof BadTaskInput b) {
                throw b;
            }
            throw BadTaskInput.reject("The file " + file + " cannot be read on this node: " + e.getClass().getSimpleName());
        }
    }

    private static boolean flag(Map<String, List<String>> parameters, String name) {
        String v = single(parameters, name);
        if (v == null || v.equals("false")) {
            return false;
        }
        if (v.equals("true")) {
            return true;
        }
        throw BadTaskInput.reject(name + " must be true or false");
    }

    private static String single(Map<String, List<String>> parameters, String name) {
        List<String> v = parameters.get(name);
        if (v == null || v.isEmpty()) {
            return null;
        }
        if (v.size() > 1) {
            throw BadTaskInput.reject(name + " may be given once");
        }
        return v.get(0).strip();
    }

    private static String by(Map<String, List<String>> parameters) {
        String by = single(parameters, "by");
        if (by == null || by.isEmpty()) {
            return "";
        }
        String clean = BadTaskInput.printable(by);
        return " by " + (clean.length() > 64 ? clean.substring(0, 64) : clean);
    }

    private static String limit(String s) {
        return s.length() <= 1000 ? s : s.substring(0, 997) + "...";
    }
}

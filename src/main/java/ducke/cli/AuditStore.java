package ducke.cli;

import ducke.config.AuditFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The audit store as the {@code audit} command opens it: read only, never created. An H2 file that
 * does not exist, or a database without the audit tables, is reported in one line naming the
 * variables that point at it.
 */
record AuditStore(String url, String user, String password, List<String> variables) {

    private static final String H2_FILE = "jdbc:h2:file:";

    static AuditStore of(AuditFactory audit, ConfigVariables vars) {
        var ds = audit.dataSource();
        AuditStore store = new AuditStore(ds.getUrl(), ds.getUser(), ds.getPassword(), vars.forKey("audit.url"));
        store.requireH2FileExists();
        return store;
    }

    /** For H2, {@code IFEXISTS=TRUE}: opening a missing database fails instead of creating an empty one. */
    String readOnlyUrl() {
        return url.startsWith("jdbc:h2:") && !url.toUpperCase(Locale.ROOT).contains("IFEXISTS") ? url + ";IFEXISTS=TRUE" : url;
    }

    private void requireH2FileExists() {
        if (!url.startsWith(H2_FILE)) {
            return;
        }
        String path = url.substring(H2_FILE.length()).split(";", 2)[0];
        Path file = Path.of(path + ".mv.db");
        if (!Files.exists(file)) {
            throw new StartupException("No audit database at " + file.toAbsolutePath().normalize() + " (audit.url"
                    + setBy() + "). The audit command reads the store a node writes and never creates one: run it with "
                    + "the node's DUCKE_DATA_DIR (default ./data, relative to the working directory), or with "
                    + "DATABASE_URL pointing at the shared store.");
        }
    }

    /** The failure to read the store, in one line. */
    StartupException unreadable(Exception e) {
        String cause = rootMessage(e);
        if (cause.contains("not found") && cause.toUpperCase(Locale.ROOT).contains("AUDIT_SESSIONS")
                || cause.contains("does not exist") && cause.contains("audit_sessions")) {
            return new StartupException("The audit store " + shown() + " has no audit tables: no node has written to it."
                    + " Point DUCKE_DATA_DIR or DATABASE_URL at the store your nodes use.");
        }
        return new StartupException("Cannot read the audit store " + shown() + " (audit.url" + setBy() + "): " + cause);
    }

    private String setBy() {
        return variables.isEmpty() ? "" : ", set by " + String.join(", ", variables);
    }

    /** The URL without parameters, which may carry credentials. */
    private String shown() {
        return url.split("[;?]", 2)[0];
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        return m.lines().findFirst().orElse(m);
    }
}

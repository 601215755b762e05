package ducke.db;

import ducke.config.AuditFactory;
import org.flywaydb.core.Flyway;

import java.io.File;

/** Applies the top-level {@code migrations/} folder to the audit database at start-up. */
public final class Migrations {

    private Migrations() {
    }

    /** @return how many migrations were applied now */
    public static int apply(AuditFactory audit) {
        File folder = new File(audit.getMigrations()).getAbsoluteFile();
        if (!folder.isDirectory()) {
            throw new IllegalStateException("audit.migrations: no folder " + folder + " (run from the project directory"
                    + " or set audit.migrations)");
        }
        var ds = audit.dataSource();
        return Flyway.configure()
                .dataSource(ds.getUrl(), ds.getUser(), ds.getPassword())
                .locations("filesystem:" + folder.getPath())
                .load()
                .migrate()
                .migrationsExecuted;
    }
}

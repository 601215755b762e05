package ducke.config;

import io.dropwizard.db.DataSourceFactory;
import io.dropwizard.util.Duration;
import io.dropwizard.validation.MinDuration;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;

import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The {@code audit} block: the SQL store of finished sessions (H2 file by default, PostgreSQL for
 * clusters sharing one store) and how records are written to it.
 */
public class AuditFactory {

    /** H2 refuses file paths that are implicitly relative ({@code data/x}): they must start with ./, / or ~. */
    @NotBlank
    @Pattern(regexp = "jdbc:postgresql:.+|jdbc:h2:(mem:|tcp:|ssl:|file:[./~]|[./~]).+",
            message = "must be a jdbc:postgresql: URL or a jdbc:h2: URL whose file path starts with ./, / or ~ "
                    + "(e.g. DUCKE_DATA_DIR=./data, not data)")
    private String url = "jdbc:h2:file:./data/ducke-audit;AUTO_SERVER=TRUE";

    @NotNull
    private String user = "";

    @NotNull
    private String password = "";

    /** Folder of the SQL migrations applied at start-up. */
    @NotBlank
    private String migrations = "migrations";

    @Min(1)
    @Max(10_000)
    private int batchSize = 200;

    /** Longest wait between attempts while the database is unreachable. */
    @NotNull
    @MinDuration(value = 10, unit = TimeUnit.MILLISECONDS)
    private Duration maxRetryInterval = Duration.seconds(30);

    /** How often live sessions are written as open rows with their running cost; 0 = never. */
    @NotNull
    private Duration checkpointInterval = Duration.seconds(5);

    public String getUrl() { return url; }
    public void setUrl(String url) { this.url = url; }
    public String getUser() { return user; }
    public void setUser(String user) { this.user = user; }
    public String getPassword() { return password; }
    public void setPassword(String password) { this.password = password; }
    public String getMigrations() { return migrations; }
    public void setMigrations(String migrations) { this.migrations = migrations; }
    public int getBatchSize() { return batchSize; }
    public void setBatchSize(int batchSize) { this.batchSize = batchSize; }
    public Duration getMaxRetryInterval() { return maxRetryInterval; }
    public void setMaxRetryInterval(Duration v) { this.maxRetryInterval = v; }
    public Duration getCheckpointInterval() { return checkpointInterval; }
    public void setCheckpointInterval(Duration v) { this.checkpointInterval = v; }

    /** A pool for this store; the driver follows from the URL. */
    public DataSourceFactory dataSource() {
        DataSourceFactory ds = new DataSourceFactory();
        ds.setUrl(url);
        ds.setDriverClass(url.startsWith("jdbc:postgresql:") ? "org.postgresql.Driver" : "org.h2.Driver");
        ds.setUser(user.isEmpty() && url.startsWith("jdbc:h2:") ? "sa" : user);
        ds.setPassword(password);
        ds.setMinSize(1);
        ds.setInitialSize(1);
        ds.setMaxSize(8);
        ds.setValidationQuery("SELECT 1");
        ds.setMaxWaitForConnection(Duration.seconds(5));
        ds.setCheckConnectionOnBorrow(true);
        ds.setProperties(Map.of());
        return ds;
    }
}

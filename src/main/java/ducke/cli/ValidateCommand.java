package ducke.cli;

import io.dropwizard.core.Application;
import io.dropwizard.core.Configuration;
import io.dropwizard.core.cli.CheckCommand;
import io.dropwizard.core.cli.Cli;
import io.dropwizard.core.setup.Bootstrap;
import net.sourceforge.argparse4j.inf.Namespace;

import java.io.PrintStream;

/**
 * Dropwizard's {@code check} command ({@code java -jar duck-e.jar check config.yml}: parses and
 * validates the configuration, starts nothing), reporting errors through {@link StartupErrors}.
 * The verdict is printed on standard output, not logged: the log's console appender is
 * asynchronous, and a line it has taken off its queue but not yet written is lost when the command
 * returns and the JVM exits (seen on a busy machine: exit 0 and no output at all).
 */
public final class ValidateCommand<T extends Configuration> extends CheckCommand<T> {

    /** The line a valid configuration gets. */
    public static final String OK = "Configuration is OK";

    private final PrintStream out;

    public ValidateCommand(Application<T> application, PrintStream out) {
        super(application);
        this.out = out;
    }

    @Override
    protected void run(Bootstrap<T> bootstrap, Namespace namespace, T configuration) {
        out.println(OK + ": " + namespace.getString("file"));
        out.flush();
    }

    @Override
    public void onError(Cli cli, Namespace namespace, Throwable e) {
        StartupErrors.print(cli, namespace, e);
    }
}

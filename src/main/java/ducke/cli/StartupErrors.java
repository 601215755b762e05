package ducke.cli;

import io.dropwizard.configuration.ConfigurationException;
import io.dropwizard.core.cli.Cli;
import net.sourceforge.argparse4j.inf.Namespace;

import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * How a command reports a failure: a configuration error with the environment variables behind
 * the refused keys, a {@link StartupException} as its one line, anything unexpected with its stack
 * trace (that one is a bug worth reporting).
 */
public final class StartupErrors {

    private StartupErrors() {
    }

    public static void print(Cli cli, Namespace namespace, Throwable e) {
        cli.getStdErr().println(describe(namespace == null ? null : namespace.getString("file"), e));
    }

    /** The text to print for {@code e}, null-safe on the configuration file. */
    static String describe(String configFile, Throwable e) {
        if (e instanceof ConfigurationException) {
            return ConfigVariables.of(configFile).explain(e.getMessage())
                    + "\nFix the value (in the environment or in the configuration file) and start again.";
        }
        if (e instanceof StartupException) {
            return e.getMessage();
        }
        StringWriter trace = new StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        return trace.toString().stripTrailing();
    }
}

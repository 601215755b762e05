package ducke.cli;

import io.dropwizard.core.Application;
import io.dropwizard.core.Configuration;
import io.dropwizard.core.cli.CheckCommand;
import io.dropwizard.core.cli.Cli;
import net.sourceforge.argparse4j.inf.Namespace;

/**
 * Dropwizard's {@code check} command ({@code java -jar duck-e.jar check config.yml}: parses and
 * validates the configuration, starts nothing), reporting errors through {@link StartupErrors}.
 */
public final class ValidateCommand<T extends Configuration> extends CheckCommand<T> {

    public ValidateCommand(Application<T> application) {
        super(application);
    }

    @Override
    public void onError(Cli cli, Namespace namespace, Throwable e) {
        StartupErrors.print(cli, namespace, e);
    }
}

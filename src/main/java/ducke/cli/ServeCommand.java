package ducke.cli;

import ducke.relay.NodeDrain;
import io.dropwizard.core.Application;
import io.dropwizard.core.Configuration;
import io.dropwizard.core.cli.Cli;
import io.dropwizard.core.cli.ServerCommand;
import io.dropwizard.core.setup.Environment;
import net.sourceforge.argparse4j.inf.Namespace;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Dropwizard's {@code server} command, reporting start-up failures through {@link StartupErrors},
 * with a draining stop: once the server runs, a first SIGTERM starts the drain and a second ends it
 * early; when the drain is over (however it started, SIGTERM or task) the process exits 0 through
 * the usual stop path — the JVM's shutdown hooks, where Jetty stops the server and Dropwizard's
 * managed objects (audit, grid member, journal) stop as they always did. A shutdown hook could not
 * do this: it cannot see a second signal, since {@code System.exit} blocks while hooks run.
 */
public final class ServeCommand<T extends Configuration> extends ServerCommand<T> {

    private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

    private final Supplier<NodeDrain> drain;

    /** @param drain the application's draining stop, read once the application has run */
    public ServeCommand(Application<T> application, Supplier<NodeDrain> drain) {
        super(application);
        this.drain = drain;
    }

    @Override
    protected void run(Environment environment, Namespace namespace, T configuration) throws Exception {
        super.run(environment, namespace, configuration);
        NodeDrain d = drain.get();
        if (d == null) {
            return;
        }
        d.whenDrained(() -> System.exit(0));
        AtomicInteger signals = new AtomicInteger();
        Signal.handle(new Signal("TERM"), sig -> {
            if (signals.incrementAndGet() == 1) {
                d.start("SIGTERM");
            } else {
                d.cut("second SIGTERM");
            }
        });
        LOG.info("SIGTERM drains this node; a second SIGTERM ends the drain at once");
    }

    @Override
    public void onError(Cli cli, Namespace namespace, Throwable e) {
        StartupErrors.print(cli, namespace, e);
    }
}

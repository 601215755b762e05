package ducke.tasks;

import ducke.config.SettingsSync;
import ducke.core.settings.VersionedDocument;
import io.dropwizard.servlets.tasks.Task;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /tasks/settings}: the cluster's current settings version and document. The first line
 * is {@code settings version N} (and this node's version, should it lag behind); the rest is the
 * document, canonical JSON in the shape of config.yml's sections, fit to edit and send back to
 * {@code apply-settings}. Changes nothing, so it is not journaled.
 */
public final class ShowSettingsTask extends Task {

    private final SettingsSync settings;

    public ShowSettingsTask(SettingsSync settings) {
        super("settings");
        this.settings = settings;
    }

    @Override
    public void execute(Map<String, List<String>> parameters, PrintWriter output) {
        VersionedDocument d = settings.current();
        long here = settings.live().get().version();
        output.print("settings version " + d.version() + (here == d.version() ? "" : " (this node: version " + here + ")") + "\n");
        output.print(d.json() + "\n");
    }
}

package ducke.core.cost;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The models a client may ask for, one rule for every way a session starts (the realtime
 * handshake's {@code ?model=}, a client secret's {@code model}, the session API's {@code model}):
 * a request that names none gets the default; a named model is taken trimmed and must be the
 * default or listed. Names are compared exactly (the model travels upstream as written). Immutable.
 */
public final class ModelAllowList {

    private final String defaultModel;
    private final TreeSet<String> allowed;

    /** @param listed the models allowed besides {@code defaultModel}, which always is */
    public ModelAllowList(String defaultModel, Collection<String> listed) {
        this.defaultModel = defaultModel.strip();
        this.allowed = new TreeSet<>();
        listed.forEach(m -> allowed.add(m.strip()));
        allowed.add(this.defaultModel);
    }

    /** This list with {@code more} models allowed. */
    public ModelAllowList with(Collection<String> more) {
        TreeSet<String> all = new TreeSet<>(allowed);
        all.addAll(more);
        return new ModelAllowList(defaultModel, all);
    }

    /** The model a request gets: the default when it names none, the named one when allowed, empty otherwise. */
    public Optional<String> choose(String requested) {
        if (requested == null || requested.isBlank()) {
            return Optional.of(defaultModel);
        }
        String named = requested.strip();
        return allowed.contains(named) ? Optional.of(named) : Optional.empty();
    }

    public String defaultModel() {
        return defaultModel;
    }

    /** Every allowed model, the default included, in alphabetical order (for a refusal's message). */
    public List<String> allowed() {
        return List.copyOf(allowed);
    }
}

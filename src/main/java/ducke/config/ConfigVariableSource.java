package ducke.config;

import io.dropwizard.configuration.ConfigurationSourceProvider;
import io.dropwizard.configuration.EnvironmentVariableSubstitutor;
import io.dropwizard.configuration.SubstitutingSourceProvider;

import java.util.function.Function;

/**
 * Where config.yml's {@code ${VAR:-default}} values come from: the process environment when a node
 * runs, an explicit map in tests (so that a caller's exported {@code DUCKE_SERVICE_TOKEN} or
 * {@code RATE_LIMIT_WEBSOCKET} cannot change what a test sees). Substitution works as Dropwizard's
 * {@link EnvironmentVariableSubstitutor} (not strict, variables within defaults resolved).
 */
public final class ConfigVariableSource {

    private ConfigVariableSource() {
    }

    /**
     * @param variables a variable's value by name, null when it is not set
     */
    public static ConfigurationSourceProvider substituting(ConfigurationSourceProvider files, Function<String, String> variables) {
        EnvironmentVariableSubstitutor substitutor = new EnvironmentVariableSubstitutor(false, true);
        substitutor.setVariableResolver(variables::apply);
        return new SubstitutingSourceProvider(files, substitutor);
    }
}

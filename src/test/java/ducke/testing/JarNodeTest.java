package ducke.testing;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A node started by a test is configured by the test alone, whatever the shell exported. */
class JarNodeTest {

    @Test
    void aNodesEnvironmentKeepsNoVariableConfigYmlReads() {
        Map<String, String> environment = new HashMap<>();
        JarNode.configVariables().forEach(name -> environment.put(name, "odd"));
        environment.put("JAVA_TOOL_OPTIONS", "-Ddw.server.applicationConnectors[0].port=1");
        environment.put("PATH", "/usr/bin");
        assertThat(JarNode.configVariables()).contains("DUCKE_SERVICE_TOKEN", "RATE_LIMIT_WEBSOCKET", "OPENAI_API_KEY");

        JarNode.clean(environment);

        assertThat(environment).containsOnlyKeys("PATH");
    }
}

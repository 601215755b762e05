package ducke.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The environment variables a configuration file reads, by YAML key: {@code rateLimits.status} is
 * set by {@code RATE_LIMIT_STATUS} when config.yml says {@code status: "${RATE_LIMIT_STATUS:-60/minute}"}.
 * Used to name the variable an operator actually set when a value is refused.
 */
public final class ConfigVariables {

    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)");

    private final Map<String, List<String>> byKey;

    ConfigVariables(Map<String, List<String>> byKey) {
        this.byKey = byKey;
    }

    /** The variables of the file's raw text; none when it cannot be read (the error says why anyway). */
    public static ConfigVariables of(String file) {
        Map<String, List<String>> byKey = new LinkedHashMap<>();
        if (file != null) {
            try {
                JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(Path.of(file)));
                collect("", root, byKey);
            } catch (IOException | RuntimeException e) {
                // no variables to name: the message still names the key
            }
        }
        return new ConfigVariables(byKey);
    }

    private static void collect(String path, JsonNode node, Map<String, List<String>> byKey) {
        if (node == null) {
            return;
        }
        if (node.isObject()) {
            node.fields().forEachRemaining(f -> collect(path.isEmpty() ? f.getKey() : path + "." + f.getKey(), f.getValue(), byKey));
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                collect(path + "[" + i + "]", node.get(i), byKey);
            }
        } else if (node.isTextual()) {
            List<String> names = new ArrayList<>();
            Matcher m = VARIABLE.matcher(node.asText());
            while (m.find()) {
                names.add(m.group(1));
            }
            if (!names.isEmpty()) {
                byKey.put(path, names);
            }
        }
    }

    /** The variables that set {@code key} ({@code a.b[0].c}, also written {@code a.b.[0].c}), empty if none. */
    public List<String> forKey(String key) {
        return byKey.getOrDefault(key.replace(".[", "["), List.of());
    }

    /**
     * The message with each key that a variable sets followed by that variable's name, e.g.
     * {@code rateLimits.status (environment variable RATE_LIMIT_STATUS)}; Jackson's internal
     * reference chains are dropped.
     */
    public String explain(String message) {
        List<String> keys = byKey.keySet().stream().sorted(Comparator.comparingInt(String::length).reversed()).toList();
        StringBuilder out = new StringBuilder();
        for (String line : message.split("\n", -1)) {
            if (line.contains("(through reference chain:")) {
                continue;
            }
            out.append(explainLine(line, keys)).append('\n');
        }
        return out.toString().stripTrailing();
    }

    private String explainLine(String line, List<String> keys) {
        for (String key : keys) {
            for (String written : List.of(key, key.replace("[", ".["))) {
                Matcher m = Pattern.compile("(?<![A-Za-z0-9_.\\[\\]])" + Pattern.quote(written) + "(?![A-Za-z0-9_\\[])").matcher(line);
                if (m.find()) {
                    List<String> vars = byKey.get(key);
                    String names = vars.size() == 1 ? "environment variable " + vars.get(0)
                            : "environment variables " + String.join(", ", vars);
                    return line.substring(0, m.end()) + " (" + names + ")" + line.substring(m.end());
                }
            }
        }
        return line;
    }
}

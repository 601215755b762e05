package ducke.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names a Grafana dashboard's PromQL queries use: the same reading as
 * {@code scripts/dashboard_metrics.py} (strings, label matchers, ranges and label lists removed;
 * functions, aggregations and keywords skipped).
 */
public final class DashboardQueries {

    private static final Set<String> KEYWORDS = Set.of("sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk",
            "bottomk", "quantile", "count_values", "group", "by", "without", "on", "ignoring", "group_left", "group_right",
            "bool", "and", "or", "unless", "offset", "rate", "irate", "increase", "delta", "idelta", "deriv",
            "histogram_quantile", "abs", "clamp_min", "clamp_max", "vector", "scalar", "time", "inf", "nan");
    private static final Pattern NAME = Pattern.compile("[A-Za-z_:][A-Za-z0-9_:]*");

    private DashboardQueries() {
    }

    public static Set<String> metricNames(Path dashboard) throws IOException {
        Set<String> names = new TreeSet<>();
        collect(new ObjectMapper().readTree(dashboard.toFile()).path("panels"), names);
        return names;
    }

    private static void collect(JsonNode panels, Set<String> names) {
        for (JsonNode panel : panels) {
            for (JsonNode target : panel.path("targets")) {
                names.addAll(namesIn(target.path("expr").asText("")));
            }
            collect(panel.path("panels"), names);
        }
    }

    static Set<String> namesIn(String expr) {
        String e = expr.replaceAll("\"(?:\\\\.|[^\"\\\\])*\"", "\"\"")
                .replaceAll("\\{[^}]*}", "")
                .replaceAll("\\[[^\\]]*]", "")
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
        Set<String> names = new TreeSet<>();
        Matcher m = NAME.matcher(e);
        while (m.find()) {
            String token = m.group();
            boolean call = e.substring(m.end()).stripLeading().startsWith("(");
            if (!call && !KEYWORDS.contains(token.toLowerCase(java.util.Locale.ROOT)) && !token.matches("\\d.*")) {
                names.add(token);
            }
        }
        return names;
    }
}

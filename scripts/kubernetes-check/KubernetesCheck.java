import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.annotations.SerializedName;
import io.kubernetes.client.openapi.JSON;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks the Kubernetes manifests of the guard: every object against the Kubernetes API schema, and
 * the objects against each other and against config.yml.
 *
 * <p>The schema is the official Kubernetes Java client's API models, generated from the Kubernetes
 * OpenAPI specification. Every field must be a property of its model (an unknown or misspelt field
 * fails, as {@code kubectl apply --validate=strict} would), every value must have the property's JSON
 * type (a string where an integer belongs fails, and the reverse), and the models' own validation
 * adds the required fields.
 *
 * <p>Usage: {@code java KubernetesCheck DIR CONFIG_YML [EXTRA_MANIFEST...]}: DIR holds
 * kustomization.yaml and the files it lists; extra manifests (the Secret's example) are checked
 * against the schema only. Exit status 0 when all is well, 1 with one line per problem otherwise.
 */
public final class KubernetesCheck {

    private static final String MODELS = "io.kubernetes.client.openapi.models.";
    private static final Set<String> KUSTOMIZATION_KEYS = Set.of("apiVersion", "kind", "namespace", "resources", "images", "labels");

    private final List<String> problems = new ArrayList<>();
    private final List<Map<String, Object>> objects = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: KubernetesCheck DIR CONFIG_YML [EXTRA_MANIFEST...]");
            System.exit(2);
        }
        KubernetesCheck check = new KubernetesCheck();
        Path dir = Path.of(args[0]);
        int count = check.kustomization(dir);
        for (int i = 2; i < args.length; i++) {
            count += check.schemaOnly(Path.of(args[i]));
        }
        check.fit(readVariables(Path.of(args[1])));
        if (!check.problems.isEmpty()) {
            check.problems.forEach(p -> System.out.println("  FAIL " + p));
            System.exit(1);
        }
        System.out.println("  ok   " + count + " objects valid against the Kubernetes API schema; manifests fit each other and config.yml");
    }

    // ---------- files ----------

    @SuppressWarnings("unchecked")
    private int kustomization(Path dir) throws Exception {
        Map<String, Object> k = (Map<String, Object>) yaml().load(Files.readString(dir.resolve("kustomization.yaml")));
        for (String key : k.keySet()) {
            if (!KUSTOMIZATION_KEYS.contains(key)) {
                problems.add("kustomization.yaml: unexpected key '" + key + "'");
            }
        }
        if (!"kustomize.config.k8s.io/v1beta1".equals(k.get("apiVersion")) || !"Kustomization".equals(k.get("kind"))) {
            problems.add("kustomization.yaml: not a kustomize.config.k8s.io/v1beta1 Kustomization");
        }
        int count = 0;
        for (Object resource : (List<Object>) k.getOrDefault("resources", List.of())) {
            Path file = dir.resolve(String.valueOf(resource));
            if (!Files.isRegularFile(file)) {
                problems.add("kustomization.yaml: resource " + resource + " does not exist");
                continue;
            }
            for (Map<String, Object> doc : documents(file)) {
                if (schema(file.getFileName() + ": " + describe(doc), doc)) {
                    objects.add(doc);
                }
                count++;
            }
        }
        return count;
    }

    private int schemaOnly(Path file) throws Exception {
        int count = 0;
        for (Map<String, Object> doc : documents(file)) {
            if (schema(file.getFileName() + ": " + describe(doc), doc)) {
                objects.add(doc);
            }
            count++;
        }
        return count;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> documents(Path file) throws Exception {
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Object doc : yaml().loadAll(Files.readString(file))) {
            if (doc != null) {
                docs.add((Map<String, Object>) doc);
            }
        }
        return docs;
    }

    private static Yaml yaml() {
        return new Yaml(new SafeConstructor(new LoaderOptions()));
    }

    private static String describe(Map<String, Object> doc) {
        Object meta = doc.get("metadata");
        Object name = meta instanceof Map<?, ?> m ? m.get("name") : null;
        return doc.get("kind") + " " + name;
    }

    // ---------- the schema ----------

    /** Whether {@code doc} is a valid object of its apiVersion and kind; problems are recorded under {@code where}. */
    private boolean schema(String where, Map<String, Object> doc) {
        Class<?> model = model(String.valueOf(doc.get("apiVersion")), String.valueOf(doc.get("kind")));
        if (model == null) {
            problems.add(where + ": unknown apiVersion/kind " + doc.get("apiVersion") + "/" + doc.get("kind"));
            return false;
        }
        JsonElement json = JSON.getGson().toJsonTree(doc);
        int before = problems.size();
        walk(where, "", json, model);
        if (problems.size() == before) {
            try {
                JSON.deserialize(json.toString(), model); // the model's own checks: required fields
            } catch (RuntimeException e) {
                problems.add(where + ": " + firstLine(e));
            }
        }
        return problems.size() == before;
    }

    /** apps/v1 StatefulSet → V1StatefulSet, v1 Service → V1Service, policy/v1 PodDisruptionBudget → V1PodDisruptionBudget. */
    private static Class<?> model(String apiVersion, String kind) {
        String version = apiVersion.contains("/") ? apiVersion.substring(apiVersion.indexOf('/') + 1) : apiVersion;
        try {
            return Class.forName(MODELS + Character.toUpperCase(version.charAt(0)) + version.substring(1) + kind);
        } catch (ClassNotFoundException | StringIndexOutOfBoundsException e) {
            return null;
        }
    }

    /** Checks {@code json} at {@code path} against the Java type of its property. */
    private void walk(String where, String path, JsonElement json, Type type) {
        if (json.isJsonNull()) {
            return;
        }
        Class<?> raw = raw(type);
        String at = where + " " + (path.isEmpty() ? "/" : path);
        if (type instanceof ParameterizedType p && List.class.isAssignableFrom(raw)) {
            if (!json.isJsonArray()) {
                problems.add(at + ": expected an array, got " + kind(json));
                return;
            }
            JsonArray array = json.getAsJsonArray();
            for (int i = 0; i < array.size(); i++) {
                walk(where, path + "[" + i + "]", array.get(i), p.getActualTypeArguments()[0]);
            }
        } else if (type instanceof ParameterizedType p && Map.class.isAssignableFrom(raw)) {
            if (!json.isJsonObject()) {
                problems.add(at + ": expected an object, got " + kind(json));
                return;
            }
            for (Map.Entry<String, JsonElement> e : json.getAsJsonObject().entrySet()) {
                walk(where, path + "." + e.getKey(), e.getValue(), p.getActualTypeArguments()[1]);
            }
        } else if (raw == String.class || raw == java.time.OffsetDateTime.class || raw == byte[].class) {
            expect(at, json, "a string", j -> j.isJsonPrimitive() && j.getAsJsonPrimitive().isString());
        } else if (raw == Integer.class || raw == Long.class) {
            expect(at, json, "an integer", j -> j.isJsonPrimitive() && j.getAsJsonPrimitive().isNumber()
                    && j.getAsBigDecimal().stripTrailingZeros().scale() <= 0);
        } else if (raw == Double.class || raw == Float.class) {
            expect(at, json, "a number", j -> j.isJsonPrimitive() && j.getAsJsonPrimitive().isNumber());
        } else if (raw == Boolean.class) {
            expect(at, json, "a boolean", j -> j.isJsonPrimitive() && j.getAsJsonPrimitive().isBoolean());
        } else if (raw.getName().equals("io.kubernetes.client.custom.IntOrString")
                || raw.getName().equals("io.kubernetes.client.custom.Quantity")) {
            expect(at, json, "a string or an integer", j -> j.isJsonPrimitive() && !j.getAsJsonPrimitive().isBoolean());
        } else if (raw == Object.class || raw.getName().startsWith("java.")) {
            // free-form (RawExtension and the like): anything goes
        } else if (raw.getName().startsWith(MODELS)) {
            if (!json.isJsonObject()) {
                problems.add(at + ": expected an object (" + raw.getSimpleName() + "), got " + kind(json));
                return;
            }
            Map<String, Field> properties = properties(raw);
            for (Map.Entry<String, JsonElement> e : json.getAsJsonObject().entrySet()) {
                Field f = properties.get(e.getKey());
                if (f == null) {
                    problems.add(at + ": unknown field '" + e.getKey() + "' (not a property of " + raw.getSimpleName() + ")");
                } else {
                    walk(where, path + "/" + e.getKey(), e.getValue(), f.getGenericType());
                }
            }
        }
    }

    private void expect(String at, JsonElement json, String what, java.util.function.Predicate<JsonElement> ok) {
        if (!ok.test(json)) {
            problems.add(at + ": expected " + what + ", got " + kind(json) + " " + json);
        }
    }

    private static Map<String, Field> properties(Class<?> model) {
        Map<String, Field> byName = new HashMap<>();
        for (Field f : model.getDeclaredFields()) {
            SerializedName name = f.getAnnotation(SerializedName.class);
            if (name != null && !Modifier.isStatic(f.getModifiers())) {
                byName.put(name.value(), f);
            }
        }
        return byName;
    }

    private static Class<?> raw(Type type) {
        return type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
    }

    private static String kind(JsonElement json) {
        if (json.isJsonObject()) {
            return "an object";
        }
        if (json.isJsonArray()) {
            return "an array";
        }
        JsonPrimitive p = json.getAsJsonPrimitive();
        return p.isString() ? "a string" : p.isNumber() ? "a number" : "a boolean";
    }

    private static String firstLine(Exception e) {
        String m = String.valueOf(e.getMessage());
        int json = m.indexOf(" JSON");
        return (json > 0 ? m.substring(0, json) : m).lines().findFirst().orElse(m);
    }

    // ---------- how the pieces fit ----------

    /** The environment variables config.yml reads. */
    private static Set<String> readVariables(Path configYml) throws Exception {
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)").matcher(Files.readString(configYml));
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    @SuppressWarnings("unchecked")
    private void fit(Set<String> configVariables) {
        Map<String, Object> sts = only("StatefulSet");
        Map<String, Object> config = only("ConfigMap");
        if (sts == null || config == null) {
            return;
        }
        Map<String, String> settings = new LinkedHashMap<>();
        ((Map<String, Object>) config.getOrDefault("data", Map.of())).forEach((k, v) -> settings.put(k, String.valueOf(v)));
        for (String key : settings.keySet()) {
            require(configVariables.contains(key), "ConfigMap key " + key + " is not a variable config.yml reads");
        }
        require(!settings.containsKey("HAZELCAST_MEMBERS"), "HAZELCAST_MEMBERS and HAZELCAST_KUBERNETES_SERVICE_DNS are exclusive");

        Map<String, Object> spec = map(sts, "spec");
        Map<String, Object> podSpec = map(map(spec, "template"), "spec");
        Map<String, Object> podLabels = map(map(map(spec, "template"), "metadata"), "labels");
        Map<String, Object> container = ((List<Map<String, Object>>) podSpec.get("containers")).get(0);
        int replicas = ((Number) spec.get("replicas")).intValue();

        // discovery: the headless service the StatefulSet names, listing pods before they are ready
        String gridService = String.valueOf(spec.get("serviceName"));
        Map<String, Object> headless = named("Service", gridService);
        require(headless != null, "the StatefulSet's serviceName " + gridService + " is not a Service here");
        if (headless != null) {
            Map<String, Object> hs = map(headless, "spec");
            require("None".equals(hs.get("clusterIP")), "Service " + gridService + " must be headless (clusterIP: None)");
            require(Boolean.TRUE.equals(hs.get("publishNotReadyAddresses")),
                    "Service " + gridService + " must publish not-ready addresses: pods turn ready only once they found each other");
            require(selects(map(hs, "selector"), podLabels), "Service " + gridService + " does not select the pods");
        }
        String dns = settings.getOrDefault("HAZELCAST_KUBERNETES_SERVICE_DNS", "");
        require(dns.equals(gridService) || dns.startsWith(gridService + "."),
                "HAZELCAST_KUBERNETES_SERVICE_DNS '" + dns + "' is not the headless service " + gridService);
        require("Parallel".equals(spec.get("podManagementPolicy")),
                "podManagementPolicy must be Parallel: with OrderedReady the first pod waits for a quorum it can never see alone");

        // quorum
        int quorum = Integer.parseInt(settings.getOrDefault("HAZELCAST_MIN_CLUSTER_SIZE", "0"));
        require(quorum > replicas / 2 && quorum <= replicas,
                "HAZELCAST_MIN_CLUSTER_SIZE " + quorum + " is not a majority of " + replicas + " replicas");
        Map<String, Object> pdb = only("PodDisruptionBudget");
        require(pdb != null, "no PodDisruptionBudget");
        if (pdb != null) {
            Map<String, Object> ps = map(pdb, "spec");
            require(selects(map(map(ps, "selector"), "matchLabels"), podLabels), "the PodDisruptionBudget does not select the pods");
            Object maxUnavailable = ps.get("maxUnavailable");
            require(maxUnavailable instanceof Integer n && replicas - n >= quorum,
                    "the PodDisruptionBudget must keep a quorum: maxUnavailable an integer with replicas - maxUnavailable >= " + quorum);
        }

        // ports and probes
        Map<String, Integer> ports = new HashMap<>();
        for (Map<String, Object> p : (List<Map<String, Object>>) container.getOrDefault("ports", List.of())) {
            ports.put(String.valueOf(p.get("name")), ((Number) p.get("containerPort")).intValue());
        }
        require(Integer.valueOf(settings.getOrDefault("DUCKE_PORT", "8000")).equals(ports.get("http")),
                "container port 'http' is not DUCKE_PORT");
        require(Integer.valueOf(settings.getOrDefault("HAZELCAST_PORT", "5701")).equals(ports.get("hazelcast")),
                "container port 'hazelcast' is not HAZELCAST_PORT");
        probe(container, "livenessProbe", "/health/live", ports);
        probe(container, "readinessProbe", "/health/ready", ports);
        Map<String, Object> client = named("Service", "ducke");
        require(client != null && selects(map(map(client, "spec"), "selector"), podLabels), "Service ducke does not select the pods");

        // drain
        long drainSeconds = seconds(settings.getOrDefault("DUCKE_DRAIN_TIMEOUT", "5m"));
        Object grace = podSpec.get("terminationGracePeriodSeconds");
        require(grace instanceof Number g && g.longValue() >= drainSeconds + 30,
                "terminationGracePeriodSeconds " + grace + " leaves no room after a drain of " + drainSeconds + " s (at least 30 s more)");

        // the pod: non-root, settings and secrets referenced, data on the claim
        require(Boolean.TRUE.equals(map(podSpec, "securityContext").get("runAsNonRoot")), "the pod must run as non-root");
        List<Map<String, Object>> envFrom = (List<Map<String, Object>>) container.getOrDefault("envFrom", List.of());
        require(envFrom.stream().anyMatch(e -> name(e.get("configMapRef")).equals(name(config.get("metadata")))),
                "the container does not read the ConfigMap");
        envFrom.stream().map(e -> e.get("secretRef")).filter(r -> r != null).forEach(r ->
                require(named("Secret", name(r)) != null, "Secret " + name(r) + " is referenced but not described (secret.example.yaml)"));
        List<Map<String, Object>> env = (List<Map<String, Object>>) container.getOrDefault("env", List.of());
        for (Map<String, Object> e : env) {
            String var = String.valueOf(e.get("name"));
            require(configVariables.contains(var) || var.equals("JAVA_TOOL_OPTIONS"), "env " + var + " is not a variable config.yml reads");
        }
        String dataDir = env.stream().filter(e -> "DUCKE_DATA_DIR".equals(e.get("name"))).map(e -> String.valueOf(e.get("value")))
                .findFirst().orElse("/app/data");
        List<Map<String, Object>> claims = (List<Map<String, Object>>) spec.getOrDefault("volumeClaimTemplates", List.of());
        List<Map<String, Object>> mounts = (List<Map<String, Object>>) container.getOrDefault("volumeMounts", List.of());
        require(mounts.stream().anyMatch(m -> dataDir.equals(m.get("mountPath"))
                        && claims.stream().anyMatch(c -> name(c.get("metadata")).equals(m.get("name")))),
                "DUCKE_DATA_DIR " + dataDir + " is not on a volume claim: the charge journal must survive the pod");
    }

    @SuppressWarnings("unchecked")
    private void probe(Map<String, Object> container, String which, String path, Map<String, Integer> ports) {
        Map<String, Object> get = map(map(container, which), "httpGet");
        require(path.equals(get.get("path")), which + " must GET " + path);
        Object port = get.get("port");
        require("http".equals(port) || ports.get("http").equals(port), which + " must use the application port (http)");
    }

    private static long seconds(String duration) {
        Matcher m = Pattern.compile("(\\d+)\\s*(s|m|h|seconds?|minutes?|hours?)").matcher(duration.trim());
        if (!m.matches()) {
            return Long.MAX_VALUE / 2;
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2).charAt(0)) {
            case 'h' -> n * 3600;
            case 'm' -> n * 60;
            default -> n;
        };
    }

    private Map<String, Object> only(String kind) {
        List<Map<String, Object>> found = objects.stream().filter(o -> kind.equals(o.get("kind"))).toList();
        require(found.size() == 1, "expected one " + kind + ", found " + found.size());
        return found.size() == 1 ? found.get(0) : null;
    }

    private Map<String, Object> named(String kind, String name) {
        return objects.stream().filter(o -> kind.equals(o.get("kind")) && name.equals(name(o.get("metadata")))).findFirst().orElse(null);
    }

    private static boolean selects(Map<String, Object> selector, Map<String, Object> labels) {
        return !selector.isEmpty() && selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Map<String, Object> m, String key) {
        Object v = m == null ? null : m.get(key);
        return v instanceof Map<?, ?> ? (Map<String, Object>) v : Map.of();
    }

    private static String name(Object ref) {
        return ref instanceof Map<?, ?> m ? String.valueOf(m.get("name")) : "";
    }

    private void require(boolean ok, String problem) {
        if (!ok) {
            problems.add(problem);
        }
    }
}

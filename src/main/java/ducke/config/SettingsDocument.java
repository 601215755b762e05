package ducke.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import ducke.DuckeConfiguration;
import ducke.core.cluster.GridSettings;
import ducke.core.cost.Money;
import ducke.core.ratelimit.RateLimitSettings;
import ducke.core.settings.Settings;
import io.dropwizard.jackson.Jackson;
import io.dropwizard.jersey.validation.Validators;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.Validator;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiConsumer;

/**
 * The cluster's settings as a document in the shape of config.yml's sections: {@code prices},
 * {@code costProtection} (its caps, not its housekeeping), {@code rateLimits} (its limits and
 * switches, not its grid deadline) and {@code clientIdentity}'s prefixes. Built from a node's
 * configuration (the first node seeds the cluster with it), or from a stored document; changed by
 * a JSON merge patch ({@link #merge}), validated whole by the same factories and constraints as
 * start-up before anything changes. Its text ({@link #json()}) is canonical: sorted keys, money as
 * exact decimal strings, so equal settings are equal text. Immutable.
 */
public final class SettingsDocument {

    /** The keys a document may name, by section; anything else is refused. */
    static final Map<String, Set<String>> KEYS = Map.of(
            "costProtection", Set.of("enabled", "maxSessionCostUsd", "maxSessionDurationMinutes", "budgetWarningPercent",
                    "maxConcurrentSessionsPerClient", "maxTotalCostPerHourUsd", "maxClientCostPerHourUsd",
                    "circuitBreakerThresholdUsd", "circuitBreakerWindow", "circuitBreakerCooldown"),
            "rateLimits", Set.of("enabled", "failOpen", "status", "mainPage", "websocket", "defaultLimit", "weatherApi",
                    "webSearch"),
            "prices", Set.of("models", "toolFees", "perMinute"),
            "clientIdentity", Set.of("ipv4Prefix", "ipv6Prefix"));
    static final Set<String> MODEL_KEYS = Set.of("input", "output", "cachedInput", "textInput", "audioInput", "textOutput",
            "audioOutput");

    private static final ObjectMapper YAML = mapper(new ObjectMapper(new YAMLFactory()));
    private static final ObjectMapper JSON = mapper(Jackson.newObjectMapper())
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);
    private static final Validator VALIDATOR = Validators.newValidator();

    private final CostProtectionFactory cost;
    private final RateLimitFactory rates;
    private final PricesFactory prices;
    private final int ipv4Prefix;
    private final int ipv6Prefix;
    private final ObjectNode tree;

    private SettingsDocument(CostProtectionFactory cost, RateLimitFactory rates, PricesFactory prices, int ipv4Prefix,
                             int ipv6Prefix) {
        this.cost = cost;
        this.rates = rates;
        this.prices = prices;
        this.ipv4Prefix = ipv4Prefix;
        this.ipv6Prefix = ipv6Prefix;
        this.tree = canonical();
    }

    private static ObjectMapper mapper(ObjectMapper m) {
        m.enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
        m.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        m.getFactory().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        return m;
    }

    /** A node's settings from its (validated) configuration. */
    public static SettingsDocument of(DuckeConfiguration config) {
        return new SettingsDocument(config.getCostProtection(), config.getRateLimits(), config.getPrices(),
                config.getClientIdentity().getIpv4Prefix(), config.getClientIdentity().getIpv6Prefix());
    }

    /** A stored document, validated as any other. */
    public static SettingsDocument parse(String json) {
        return bind(tree(json));
    }

    /**
     * Reads a YAML or JSON text (JSON is YAML) into a tree; the top must be an object.
     *
     * @throws Invalid when it is not
     */
    public static ObjectNode tree(String text) {
        JsonNode node;
        try {
            node = YAML.readTree(text == null ? "" : text);
        } catch (JsonProcessingException e) {
            throw new Invalid("The settings document is not valid YAML or JSON: " + e.getOriginalMessage());
        }
        if (node == null || node.isMissingNode() || node.isNull()) {
            throw new Invalid("The settings document is empty");
        }
        if (!node.isObject()) {
            throw new Invalid("The settings document must be an object with the sections "
                    + String.join(", ", new TreeSet<>(KEYS.keySet())));
        }
        return (ObjectNode) node;
    }

    /**
     * This document changed by {@code patch} as a JSON merge patch (RFC 7386): what it names
     * replaces, objects merge, {@code null} removes (a model, a tool fee, a per-minute price, an
     * optional part of a model's price); what it does not name stays.
     *
     * @throws Invalid naming the key, for an unknown key or a value start-up would refuse; nothing changed
     */
    public SettingsDocument merge(ObjectNode patch) {
        checkKeys(patch, true);
        ObjectNode merged = tree.deepCopy();
        mergeInto(merged, patch);
        return bind(merged);
    }

    /** Builds the live objects of version {@code version}. */
    public Settings build(long version) {
        return new Settings(version, prices.build(), cost.limits(),
                new RateLimitSettings(rates.policies(), rates.isEnabled(), rates.isFailOpen()), ipv4Prefix, ipv6Prefix);
    }

    /** The canonical text, as stored in the grid. */
    public String json() {
        try {
            return JSON.writeValueAsString(tree);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The document as a tree (a copy), for answers. */
    public ObjectNode toTree() {
        return tree.deepCopy();
    }

    /** The settings by configuration key, for naming differences ({@link GridSettings#changesFrom}). */
    public GridSettings flat() {
        return ClusterSettings.of(cost, rates, prices, ipv4Prefix, ipv6Prefix);
    }

    private static SettingsDocument bind(ObjectNode doc) {
        checkKeys(doc, false);
        for (String section : KEYS.keySet()) {
            if (!doc.has(section)) {
                throw new Invalid("The settings document lacks the section " + section);
            }
        }
        CostProtectionFactory cost = section(doc, "costProtection", CostProtectionFactory.class);
        RateLimitFactory rates = section(doc, "rateLimits", RateLimitFactory.class);
        PricesFactory prices = section(doc, "prices", PricesFactory.class);
        ClientIdentityFactory identity = section(doc, "clientIdentity", ClientIdentityFactory.class);
        try {
            SettingsDocument d = new SettingsDocument(cost, rates, prices, identity.getIpv4Prefix(), identity.getIpv6Prefix());
            d.build(1);
            return d;
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new Invalid("The settings cannot be applied: " + e.getMessage());
        }
    }

    private static <T> T section(ObjectNode doc, String name, Class<T> type) {
        T built;
        try {
            built = JSON.treeToValue(doc.get(name), type);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            String msg = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            throw new Invalid(name + ": " + firstLine(msg));
        }
        List<String> errors = new ArrayList<>();
        for (ConstraintViolation<T> v : VALIDATOR.validate(built)) {
            errors.add(name + "." + v.getPropertyPath() + " " + v.getMessage());
        }
        if (!errors.isEmpty()) {
            errors.sort(null);
            throw new Invalid(String.join("; ", errors));
        }
        return built;
    }

    private static String firstLine(String s) {
        int nl = s == null ? -1 : s.indexOf('\n');
        return nl < 0 ? String.valueOf(s) : s.substring(0, nl);
    }

    /**
     * Refuses keys outside {@link #KEYS}. In a patch ({@code patch}) {@code null} is allowed only where
     * removing makes sense: a model, a part of a model's price, a tool fee, a per-minute price.
     */
    private static void checkKeys(ObjectNode doc, boolean patch) {
        for (Iterator<Map.Entry<String, JsonNode>> it = doc.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> s = it.next();
            Set<String> keys = KEYS.get(s.getKey());
            if (keys == null) {
                throw new Invalid("Unknown section '" + s.getKey() + "': the cluster's settings are "
                        + String.join(", ", new TreeSet<>(KEYS.keySet())) + " (other settings are per node, in config.yml)");
            }
            object(s.getValue(), s.getKey());
            for (Iterator<Map.Entry<String, JsonNode>> f = s.getValue().fields(); f.hasNext(); ) {
                Map.Entry<String, JsonNode> e = f.next();
                String key = s.getKey() + "." + e.getKey();
                if (!keys.contains(e.getKey())) {
                    throw new Invalid("Unknown setting '" + key + "': " + s.getKey() + " takes " + String.join(", ", new TreeSet<>(keys))
                            + " here (other settings are per node, in config.yml)");
                }
                if (e.getValue().isNull()) {
                    throw new Invalid(key + " cannot be removed, only changed");
                }
                if (key.equals("prices.models")) {
                    checkModels(e.getValue(), patch);
                } else if (key.equals("prices.toolFees") || key.equals("prices.perMinute")) {
                    checkPrices(key, e.getValue(), patch);
                }
            }
        }
    }

    private static void checkModels(JsonNode models, boolean patch) {
        object(models, "prices.models");
        models.fields().forEachRemaining(m -> {
            String key = "prices.models." + m.getKey();
            if (m.getValue().isNull() && patch) {
                return;
            }
            object(m.getValue(), key);
            m.getValue().fields().forEachRemaining(p -> {
                if (!MODEL_KEYS.contains(p.getKey())) {
                    throw new Invalid("Unknown setting '" + key + "." + p.getKey() + "': a model's price takes "
                            + String.join(", ", new TreeSet<>(MODEL_KEYS)));
                }
                if (p.getValue().isNull() && !patch || !p.getValue().isNull() && !p.getValue().isValueNode()) {
                    throw new Invalid(key + "." + p.getKey() + " must be an amount in USD per million tokens");
                }
            });
        });
    }

    private static void checkPrices(String key, JsonNode map, boolean patch) {
        object(map, key);
        map.fields().forEachRemaining(e -> {
            if (e.getValue().isNull() && patch) {
                return;
            }
            if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                throw new Invalid(key + "." + e.getKey() + " must be an amount in USD");
            }
        });
    }

    private static void object(JsonNode node, String key) {
        if (!node.isObject()) {
            throw new Invalid(key + " must be an object");
        }
    }

    /** RFC 7386 on trees: null removes, objects merge, anything else replaces. */
    private static void mergeInto(ObjectNode target, ObjectNode patch) {
        patch.fields().forEachRemaining(e -> {
            JsonNode value = e.getValue();
            if (value.isNull()) {
                target.remove(e.getKey());
            } else if (value.isObject() && target.get(e.getKey()) instanceof ObjectNode inner) {
                mergeInto(inner, (ObjectNode) value);
            } else {
                target.set(e.getKey(), value.deepCopy());
            }
        });
    }

    /** The document as config.yml would say it, normalised: sorted keys, money exact. */
    private ObjectNode canonical() {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        ObjectNode c = root.putObject("clientIdentity");
        c.put("ipv4Prefix", ipv4Prefix);
        c.put("ipv6Prefix", ipv6Prefix);
        ObjectNode cp = root.putObject("costProtection");
        cp.put("budgetWarningPercent", cost.getBudgetWarningPercent());
        cp.put("circuitBreakerCooldown", cost.getCircuitBreakerCooldown().toString());
        cp.put("circuitBreakerThresholdUsd", usd(cost.getCircuitBreakerThresholdUsd()));
        cp.put("circuitBreakerWindow", cost.getCircuitBreakerWindow().toString());
        cp.put("enabled", cost.isEnabled());
        cp.put("maxClientCostPerHourUsd", usd(cost.getMaxClientCostPerHourUsd()));
        cp.put("maxConcurrentSessionsPerClient", cost.getMaxConcurrentSessionsPerClient());
        cp.put("maxSessionCostUsd", usd(cost.getMaxSessionCostUsd()));
        cp.put("maxSessionDurationMinutes", cost.getMaxSessionDurationMinutes());
        cp.put("maxTotalCostPerHourUsd", usd(cost.getMaxTotalCostPerHourUsd()));
        ObjectNode p = root.putObject("prices");
        ObjectNode models = p.putObject("models");
        new TreeMap<>(prices.getModels()).forEach((name, m) -> {
            ObjectNode o = models.putObject(name);
            BiConsumer<String, BigDecimal> part = (k, v) -> {
                if (v != null) {
                    o.put(k, usd(v));
                }
            };
            part.accept("audioInput", m.getAudioInput());
            part.accept("audioOutput", m.getAudioOutput());
            part.accept("cachedInput", m.getCachedInput());
            part.accept("input", m.getInput());
            part.accept("output", m.getOutput());
            part.accept("textInput", m.getTextInput());
            part.accept("textOutput", m.getTextOutput());
        });
        ObjectNode minutes = p.putObject("perMinute");
        new TreeMap<>(prices.getPerMinute()).forEach((k, v) -> minutes.put(k, usd(v)));
        ObjectNode fees = p.putObject("toolFees");
        new TreeMap<>(prices.getToolFees()).forEach((k, v) -> fees.put(k, usd(v)));
        ObjectNode r = root.putObject("rateLimits");
        r.put("defaultLimit", rates.getDefaultLimit().strip());
        r.put("enabled", rates.isEnabled());
        r.put("failOpen", rates.isFailOpen());
        r.put("mainPage", rates.getMainPage().strip());
        r.put("status", rates.getStatus().strip());
        r.put("weatherApi", rates.getWeatherApi().strip());
        r.put("webSearch", rates.getWebSearch().strip());
        r.put("websocket", rates.getWebsocket().strip());
        return root;
    }

    /** Exact decimal text of an amount, normalised through nano-dollars ({@code 5} and {@code 5.00} agree). */
    private static String usd(BigDecimal v) {
        return Money.usd(Money.nanoUsd(v)).toPlainString();
    }

    /** A document the cluster cannot take: the message names the key and the reason. */
    public static final class Invalid extends RuntimeException {
        public Invalid(String message) {
            super(message, null, false, false);
        }
    }
}

package ducke.core.cluster;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The settings every node of a cluster shares because they decide what the shared state means:
 * cost caps, rate limits, prices and client prefixes, by configuration key, in canonical text (so
 * that {@code 5} and {@code 5.00} agree). The cluster holds one version of them; these flat values
 * name what differs between two versions, or between a node's config.yml and the cluster's.
 */
public final class GridSettings {

    public static final GridSettings NONE = new GridSettings(Map.of());

    private final Map<String, String> values;

    /** @param values canonical value by configuration key (e.g. {@code prices.models.gpt-5.input} → {@code 10}) */
    public GridSettings(Map<String, String> values) {
        this.values = Collections.unmodifiableMap(new TreeMap<>(values));
    }

    public Map<String, String> values() {
        return values;
    }

    /** One line, safe for any key or value: {@code key=value&key=value}, URL-encoded, sorted by key. */
    public String encode() {
        List<String> pairs = new ArrayList<>();
        values.forEach((k, v) -> pairs.add(enc(k) + "=" + enc(v)));
        return String.join("&", pairs);
    }

    /** The settings a member announced; null or empty text (a member without settings) gives {@link #NONE}. */
    public static GridSettings decode(String text) {
        if (text == null || text.isEmpty()) {
            return NONE;
        }
        Map<String, String> m = new TreeMap<>();
        for (String pair : text.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                m.put(dec(pair.substring(0, eq)), dec(pair.substring(eq + 1)));
            }
        }
        return new GridSettings(m);
    }

    /** Every key whose value differs, with this node's value and the other's ("absent" where one lacks it). */
    public List<String> differences(GridSettings other) {
        List<String> out = new ArrayList<>();
        TreeSet<String> keys = new TreeSet<>(values.keySet());
        keys.addAll(other.values.keySet());
        for (String k : keys) {
            String mine = values.get(k);
            String theirs = other.values.get(k);
            if (!Objects.equals(mine, theirs)) {
                out.add(k + " is " + show(mine) + " here but " + show(theirs) + " in the cluster");
            }
        }
        return out;
    }

    /** Every key whose value changed from {@code before} to this: {@code key: old -> new} ("absent" where one lacks it). */
    public List<String> changesFrom(GridSettings before) {
        List<String> out = new ArrayList<>();
        TreeSet<String> keys = new TreeSet<>(values.keySet());
        keys.addAll(before.values.keySet());
        for (String k : keys) {
            String now = values.get(k);
            String was = before.values.get(k);
            if (!Objects.equals(now, was)) {
                out.add(k + ": " + show(was) + " -> " + show(now));
            }
        }
        return out;
    }

    private static String show(String v) {
        return v == null ? "absent" : v;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String dec(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GridSettings g && g.values.equals(values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }
}

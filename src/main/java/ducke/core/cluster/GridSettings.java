package ducke.core.cluster;

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

    private final Map<String, String> values;

    /** @param values canonical value by configuration key (e.g. {@code prices.models.gpt-5.input} → {@code 10}) */
    public GridSettings(Map<String, String> values) {
        this.values = Collections.unmodifiableMap(new TreeMap<>(values));
    }

    public Map<String, String> values() {
        return values;
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

    @Override
    public boolean equals(Object o) {
        return o instanceof GridSettings g && g.values.equals(values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }
}

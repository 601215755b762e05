package ducke.testing;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads one sample out of Prometheus text exposition. */
public final class PromText {
    private PromText() {
    }

    /** The value of the sample with exactly this name and label text (e.g. {@code endpoint="status"}), or 0 when absent. */
    public static double value(String text, String name, String labels) {
        String selector = labels == null || labels.isEmpty() ? Pattern.quote(name) : Pattern.quote(name + "{" + labels + "}");
        Matcher m = Pattern.compile("(?m)^" + selector + " (\\S+)$").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : 0.0;
    }
}

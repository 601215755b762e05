package ducke.core.cost;

import java.util.Locale;

/** The disjoint kinds of tokens a usage report is priced and counted by. */
public enum TokenKind {
    TEXT_INPUT, AUDIO_INPUT, CACHED_INPUT, TEXT_OUTPUT, AUDIO_OUTPUT;

    /** Metric label and JSON name, e.g. {@code audio_input}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}

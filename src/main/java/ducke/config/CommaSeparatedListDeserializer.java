package ducke.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a list either as a YAML sequence or as one comma-separated string, so that
 * {@code members: "${HAZELCAST_MEMBERS:-}"} works from an environment variable. Blank items are dropped.
 */
public final class CommaSeparatedListDeserializer extends JsonDeserializer<List<String>> {

    @Override
    public List<String> deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        List<String> out = new ArrayList<>();
        if (p.currentToken() == JsonToken.START_ARRAY) {
            while (p.nextToken() != JsonToken.END_ARRAY) {
                addAll(out, p.getValueAsString());
            }
        } else {
            addAll(out, p.getValueAsString());
        }
        return out;
    }

    @Override
    public List<String> getNullValue(DeserializationContext ctxt) {
        return new ArrayList<>();
    }

    private static void addAll(List<String> out, String text) {
        if (text == null) {
            return;
        }
        Arrays.stream(text.split(",")).map(String::strip).filter(s -> !s.isEmpty()).forEach(out::add);
    }
}

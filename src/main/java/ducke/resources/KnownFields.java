package ducke.resources;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.errors.ApiException;
import ducke.errors.ErrorWords;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Request bodies take only the fields they know: a typo ({@code "client"} for {@code client_id})
 * or a field of another API is refused with 422 naming it, never silently ignored.
 */
final class KnownFields {

    private KnownFields() {
    }

    /** 422 when {@code unknown} is not empty; {@code takes} says what the body does take. */
    static void require(Collection<String> unknown, String takes) {
        if (unknown != null && !unknown.isEmpty()) {
            String names = String.join(", ", unknown.stream().map(KnownFields::printable).sorted().toList());
            throw new ApiException(422, ErrorWords.INVALID_REQUEST, "Unknown field(s) " + names + "; " + takes,
                    Map.of("errors", List.of("unknown field(s): " + names)), Map.of());
        }
    }

    /** The same for a nested object ({@code path} names it): only {@code known} keys. */
    static void require(JsonNode object, String path, Set<String> known) {
        if (object == null || !object.isObject()) {
            return;
        }
        List<String> unknown = new ArrayList<>();
        object.fieldNames().forEachRemaining(name -> {
            if (!known.contains(name)) {
                unknown.add(path + "." + name);
            }
        });
        require(unknown, path + " takes " + String.join(", ", known.stream().sorted().toList()));
    }

    /** A string field's value, null when absent or null; 422 when it is not a string. */
    static String text(JsonNode v, String name) {
        if (v == null || v.isNull() || v.isMissingNode()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.invalid(422, name + " must be a string");
        }
        return v.asText();
    }

    /**
     * A number, or money as a decimal string taken exactly ("0.25"), as a {@link BigDecimal}; 422 with
     * {@code rule} for anything else, a missing or null value included ("NaN" is not a number).
     */
    static BigDecimal decimal(JsonNode v, String rule) {
        if (v != null && v.isNumber()) {
            return v.decimalValue();
        }
        if (v != null && v.isTextual()) {
            try {
                return new BigDecimal(v.asText().strip());
            } catch (NumberFormatException e) {
                throw ApiException.invalid(422, rule);
            }
        }
        throw ApiException.invalid(422, rule);
    }

    static String printable(String s) {
        String safe = s.replaceAll("[^A-Za-z0-9_.-]", "?");
        return "'" + (safe.length() > 60 ? safe.substring(0, 60) + "…" : safe) + "'";
    }
}

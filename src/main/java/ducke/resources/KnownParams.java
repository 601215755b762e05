package ducke.resources;

import ducke.errors.ApiException;
import ducke.errors.ErrorWords;
import jakarta.ws.rs.core.UriInfo;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Refuses query parameters a query does not know (400), so that a misspelt filter such as
 * {@code ?clientid=alice} is an error instead of a query that silently returns everything.
 */
final class KnownParams {

    private KnownParams() {
    }

    static void require(UriInfo uri, Set<String> known) {
        Set<String> unknown = new TreeSet<>(uri.getQueryParameters().keySet());
        unknown.removeAll(known);
        if (!unknown.isEmpty()) {
            List<String> names = unknown.stream().map(KnownParams::printable).toList();
            throw new ApiException(400, ErrorWords.INVALID_REQUEST, "Unknown query parameter(s) " + String.join(", ", names)
                    + "; known: " + String.join(", ", new TreeSet<>(known)), Map.of("known_parameters", new TreeSet<>(known)),
                    Map.of());
        }
    }

    private static String printable(String s) {
        String safe = s.replaceAll("[^A-Za-z0-9_.-]", "?");
        return "'" + (safe.length() > 40 ? safe.substring(0, 40) + "…" : safe) + "'";
    }
}

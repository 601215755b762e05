package ducke.api;

import java.util.Map;
import java.util.Set;

/**
 * A request body that collects the fields it does not know ({@code @JsonAnySetter}), so that the
 * resource can refuse them with 422 instead of ignoring a typo or another API's field.
 */
public interface StrictBody {

    /** The fields this body does not know, with their values; null when there were none. */
    Map<String, Object> unknown();

    /** Names of the fields this body does not know, empty when there are none. */
    default Set<String> unknownFields() {
        Map<String, Object> u = unknown();
        return u == null ? Set.of() : u.keySet();
    }
}

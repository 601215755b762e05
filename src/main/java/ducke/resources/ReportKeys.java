package ducke.resources;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.errors.ApiException;
import ducke.errors.ErrorWords;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A usage report's idempotency key: the {@code Idempotency-Key} header or the body's
 * {@code report_id} (both may be given when they agree). 1 to {@value #MAX_LENGTH} visible ASCII
 * characters (a UUID, a ULID, a backend's own request id); anything else is a 400 with the error
 * body, before anything is charged. The ledger charges it as {@code report:<key>}, apart from the
 * relay's own keys.
 */
final class ReportKeys {

    static final int MAX_LENGTH = 255;
    static final String HEADER = "Idempotency-Key";
    /** Keys of usage reports, in the ledger and the audit, next to the relay's {@code resp_…} and {@code transcription:…}. */
    static final String CHARGE_PREFIX = ducke.core.cost.ChargeKey.REPORT_PREFIX;

    private static final Pattern KEY = Pattern.compile("[\\x21-\\x7E]{1," + MAX_LENGTH + "}");

    private ReportKeys() {
    }

    /** The report's key, or null when it has none; {@code headers} are the header's values (one at most). */
    static String of(List<String> headers, JsonNode field) {
        if (headers != null && headers.size() > 1) {
            throw invalid("One " + HEADER + " header at most");
        }
        String header = headers == null || headers.isEmpty() ? null : headers.get(0);
        String fromHeader = header == null ? null : checked(header, HEADER + " header");
        String fromField = null;
        if (field != null && !field.isNull()) {
            if (!field.isTextual()) {
                throw invalid("report_id must be a string");
            }
            fromField = checked(field.asText(), "report_id");
        }
        if (fromHeader != null && fromField != null && !fromHeader.equals(fromField)) {
            throw invalid("The " + HEADER + " header and report_id differ; send one, or the same key in both");
        }
        return fromHeader != null ? fromHeader : fromField;
    }

    /** 422: the key was charged (or journaled) for another report; nothing was charged now. */
    static ApiException reused(String key) {
        return new ApiException(422, ErrorWords.INVALID_REQUEST, "This idempotency key was used for a different usage "
                + "report in this session; nothing was charged. Send a new key for a new report",
                Map.of("report_id", key), Map.of());
    }

    private static String checked(String key, String what) {
        if (!KEY.matcher(key).matches()) {
            throw invalid(what + " must be 1-" + MAX_LENGTH + " visible ASCII characters (no spaces)");
        }
        return key;
    }

    private static ApiException invalid(String message) {
        return ApiException.invalid(400, message);
    }
}

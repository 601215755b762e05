package ducke.http;

import jakarta.servlet.http.HttpServletRequest;

import java.util.Enumeration;
import java.util.List;

/**
 * Headers that mean one thing and must come once. Given twice, one reader (a proxy, a WAF, a log)
 * may act on the first and another on the last: {@code Authorization: Bearer <good>} then
 * {@code Authorization: Bearer <other>} was a valid caller here while a proxy checking the last
 * saw another; two {@code Origin} headers had only the first checked. Such requests are refused.
 */
public final class SingleHeaders {

    static final List<String> NAMES = List.of("Authorization", "Origin", "Content-Type", "Sec-WebSocket-Key",
            "Sec-WebSocket-Version");

    private SingleHeaders() {
    }

    /** The first of {@link #NAMES} the request carries more than once, or null. */
    public static String repeated(HttpServletRequest request) {
        for (String name : NAMES) {
            Enumeration<String> values = request.getHeaders(name);
            if (values != null && values.hasMoreElements()) {
                values.nextElement();
                if (values.hasMoreElements()) {
                    return name;
                }
            }
        }
        return null;
    }

    /** The sentence of the 400 for a repeated header. */
    public static String refusal(String name) {
        return "Header " + name + " given more than once; send it once";
    }
}

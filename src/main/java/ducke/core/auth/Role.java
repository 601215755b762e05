package ducke.core.auth;

import java.util.Locale;

/** What a bearer token may do. */
public enum Role {
    /** Trusted backends: the session and tool APIs. */
    SERVICE,
    /** Operators: audit queries. */
    OPERATOR;

    /** The name used in {@code @RolesAllowed} and in configuration. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static final String SERVICE_NAME = "service";
    public static final String OPERATOR_NAME = "operator";
}

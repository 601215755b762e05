package ducke.config;

/** Helpers for custom Bean Validation messages. */
final class ValidationMessages {
    private ValidationMessages() {
    }

    /** Bean Validation treats braces and dollars in messages as expressions; show them literally. */
    static String literal(String message) {
        return message.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}").replace("$", "\\$");
    }
}

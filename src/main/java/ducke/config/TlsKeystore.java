package ducke.config;

import jakarta.validation.Constraint;
import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import jakarta.validation.Payload;

import java.io.IOException;
import java.io.InputStream;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Collections;
import java.util.Optional;

/**
 * A {@code tls} block whose keystore can serve HTTPS: when a port is set, the path names a
 * readable PKCS12 file that the password opens and that holds a private key. Checked while the
 * configuration is read, so a bad setting stops start-up with a message naming the variable
 * instead of a stack trace from the connector.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Constraint(validatedBy = TlsKeystore.Validator.class)
public @interface TlsKeystore {
    String TYPE = "PKCS12";

    String message() default "is not a usable keystore";

    Class<?>[] groups() default {};

    Class<? extends Payload>[] payload() default {};

    final class Validator implements ConstraintValidator<TlsKeystore, TlsFactory> {
        @Override
        public boolean isValid(TlsFactory tls, ConstraintValidatorContext ctx) {
            if (tls == null || !tls.enabled()) {
                return true;
            }
            Optional<Problem> problem = check(tls.getKeystorePath(), tls.getKeystorePassword());
            problem.ifPresent(p -> {
                ctx.disableDefaultConstraintViolation();
                ctx.buildConstraintViolationWithTemplate(ValidationMessages.literal(p.message()))
                        .addPropertyNode(p.property()).addConstraintViolation();
            });
            return problem.isEmpty();
        }

        /** What is wrong with this keystore for an HTTPS connector, if anything. */
        static Optional<Problem> check(String path, String password) {
            if (path.isBlank()) {
                return Problem.of("keystorePath", "must be set (DUCKE_TLS_KEYSTORE_PATH) when tls.port (DUCKE_TLS_PORT) is set");
            }
            Path file = Path.of(path);
            if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
                return Problem.of("keystorePath", "(DUCKE_TLS_KEYSTORE_PATH) is not a readable file: " + path);
            }
            KeyStore store;
            try (InputStream in = Files.newInputStream(file)) {
                store = KeyStore.getInstance(TYPE);
                store.load(in, password.toCharArray());
            } catch (IOException | GeneralSecurityException e) {
                // a wrong password and a file that is no PKCS12 both end here; the JDK's reason tells which
                return Problem.of("keystorePassword", "(DUCKE_TLS_KEYSTORE_PASSWORD) does not open the " + TYPE
                        + " keystore " + path + " (DUCKE_TLS_KEYSTORE_PATH): " + reason(e));
            }
            return hasPrivateKey(store) ? Optional.empty()
                    : Problem.of("keystorePath", "(DUCKE_TLS_KEYSTORE_PATH) holds no private key entry: " + path);
        }

        private static String reason(Exception e) {
            return e.getMessage() != null ? e.getMessage() : "unreadable as " + TYPE + " (" + e.getClass().getSimpleName() + ")";
        }

        private static boolean hasPrivateKey(KeyStore store) {
            try {
                for (String alias : Collections.list(store.aliases())) {
                    if (store.isKeyEntry(alias)) {
                        return true;
                    }
                }
                return false;
            } catch (GeneralSecurityException e) {
                return false;
            }
        }
    }

    /** A violation of one property of the block. */
    record Problem(String property, String message) {
        static Optional<Problem> of(String property, String message) {
            return Optional.of(new Problem(property, message));
        }
    }
}

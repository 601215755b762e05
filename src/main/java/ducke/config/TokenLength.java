package ducke.config;

import jakarta.validation.Constraint;
import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import jakarta.validation.Payload;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.List;

/** A list of bearer tokens, each at least {@link #min()} characters long. Tokens never appear in the message. */
@Target({ElementType.FIELD, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Constraint(validatedBy = TokenLength.Validator.class)
public @interface TokenLength {
    int min();

    String message() default "has a token that is too short";

    Class<?>[] groups() default {};

    Class<? extends Payload>[] payload() default {};

    final class Validator implements ConstraintValidator<TokenLength, List<String>> {
        private int min;

        @Override
        public void initialize(TokenLength annotation) {
            this.min = annotation.min();
        }

        @Override
        public boolean isValid(List<String> tokens, ConstraintValidatorContext ctx) {
            if (tokens == null) {
                return true;
            }
            for (int i = 0; i < tokens.size(); i++) {
                if (tokens.get(i).length() < min) {
                    ctx.disableDefaultConstraintViolation();
                    String which = tokens.size() == 1 ? "the token" : "token " + (i + 1) + " of " + tokens.size();
                    ctx.buildConstraintViolationWithTemplate("is too short: " + which + " has " + tokens.get(i).length()
                            + " characters, at least " + min + " are needed (e.g. the output of: openssl rand -hex 24)")
                            .addConstraintViolation();
                    return false;
                }
            }
            return true;
        }
    }
}

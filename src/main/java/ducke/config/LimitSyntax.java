package ducke.config;

import ducke.core.ratelimit.LimitParser;
import jakarta.validation.Constraint;
import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import jakarta.validation.Payload;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** A string in the limit syntax ({@code 60/minute}, {@code 10 per hour; 100 per day}). */
@Target({ElementType.FIELD, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Constraint(validatedBy = LimitSyntax.Validator.class)
public @interface LimitSyntax {
    String message() default "is not a valid limit";

    Class<?>[] groups() default {};

    Class<? extends Payload>[] payload() default {};

    final class Validator implements ConstraintValidator<LimitSyntax, String> {
        @Override
        public boolean isValid(String value, ConstraintValidatorContext ctx) {
            try {
                LimitParser.parse(value);
                return true;
            } catch (IllegalArgumentException e) {
                ctx.disableDefaultConstraintViolation();
                ctx.buildConstraintViolationWithTemplate("is not a valid limit: " + ValidationMessages.literal(e.getMessage()))
                        .addConstraintViolation();
                return false;
            }
        }
    }
}

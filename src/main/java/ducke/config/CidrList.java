package ducke.config;

import ducke.core.identity.Cidr;
import jakarta.validation.Constraint;
import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import jakarta.validation.Payload;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.List;

/** A list of IP addresses or CIDR blocks. */
@Target({ElementType.FIELD, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Constraint(validatedBy = CidrList.Validator.class)
public @interface CidrList {
    String message() default "is not a list of CIDR blocks";

    Class<?>[] groups() default {};

    Class<? extends Payload>[] payload() default {};

    final class Validator implements ConstraintValidator<CidrList, List<String>> {
        @Override
        public boolean isValid(List<String> value, ConstraintValidatorContext ctx) {
            if (value == null) {
                return true;
            }
            for (String s : value) {
                try {
                    Cidr.parse(s);
                } catch (IllegalArgumentException e) {
                    ctx.disableDefaultConstraintViolation();
                    ctx.buildConstraintViolationWithTemplate("is not a list of CIDR blocks: " + ValidationMessages.literal(e.getMessage()))
                            .addConstraintViolation();
                    return false;
                }
            }
            return true;
        }
    }
}

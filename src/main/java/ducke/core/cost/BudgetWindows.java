package ducke.core.cost;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;

/**
 * The calendar day and month that hold {@code nowMillis} in the budgets' time zone, as epoch
 * milliseconds (start inclusive, end exclusive). Computed by the caller and carried to the grid,
 * so a partition thread and its backup need no zone rules.
 */
public record BudgetWindows(long dayStartMillis, long dayEndMillis, long monthStartMillis, long monthEndMillis) {

    public BudgetWindows {
        if (dayStartMillis >= dayEndMillis || monthStartMillis >= monthEndMillis || monthStartMillis > dayStartMillis
                || dayEndMillis > monthEndMillis) {
            throw new IllegalArgumentException("a day lies within its month");
        }
    }

    public static BudgetWindows of(long nowMillis, ZoneId zone) {
        LocalDate today = Instant.ofEpochMilli(nowMillis).atZone(zone).toLocalDate();
        LocalDate firstOfMonth = today.withDayOfMonth(1);
        return new BudgetWindows(startOf(today, zone), startOf(today.plusDays(1), zone),
                startOf(firstOfMonth, zone), startOf(firstOfMonth.plusMonths(1), zone));
    }

    /** When {@code window} starts over. */
    public long resetAtMillis(BudgetWindow window) {
        return window == BudgetWindow.MONTH ? monthEndMillis : dayEndMillis;
    }

    private static long startOf(LocalDate day, ZoneId zone) {
        // the first instant of the day: midnight, or the end of a gap that skips it
        ZonedDateTime start = day.atStartOfDay(zone);
        return start.toInstant().toEpochMilli();
    }
}

package ducke.resources;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.api.ClientBudgetView;
import ducke.config.CostProtectionFactory;
import ducke.core.auth.Role;
import ducke.core.cost.BudgetLimits;
import ducke.core.cost.BudgetOverride;
import ducke.core.cost.ClientBudgets;
import ducke.core.cost.Money;
import ducke.db.AuditDao;
import ducke.errors.ApiException;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.math.BigDecimal;
import java.time.Clock;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A client's budgets over calendar days and months: what a backend sells its users ("$0.50 a day",
 * "$20 a month", "10 minutes a day"). {@code PUT} sets the client's own limits over the configured
 * defaults (durable in the audit database first, then in the grid for every node), {@code GET}
 * shows limits, spend, reservations and reset times, {@code DELETE} returns the client to the defaults.
 */
@Path("/v1/clients/{client_id}/budget")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public final class ClientBudgetsResource {

    private static final Set<String> FIELDS = Set.of("day_usd", "month_usd", "day_minutes");

    private final ClientBudgets budgets;
    private final AuditDao audit;
    private final Clock clock;
    private final ClientIds clientIds;
    /** Told of a client whose budgets were set: its paused sessions may go on. */
    private final Consumer<String> changed;

    public ClientBudgetsResource(ClientBudgets budgets, AuditDao audit, Clock clock, ClientIds clientIds, Consumer<String> changed) {
        this.budgets = budgets;
        this.audit = audit;
        this.clock = clock;
        this.clientIds = clientIds;
        this.changed = changed;
    }

    @GET
    @RolesAllowed({Role.SERVICE_NAME, Role.OPERATOR_NAME})
    public Map<String, Object> get(@PathParam("client_id") String clientId) {
        return ClientBudgetView.of(budgets.view(clientIds.canonical(clientId), clock.millis()), budgets.zone());
    }

    @PUT
    @RolesAllowed(Role.SERVICE_NAME)
    public Map<String, Object> put(@PathParam("client_id") String clientId, JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ApiException.invalid(422, "a budget is a JSON object with day_usd, month_usd and day_minutes (each optional)");
        }
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw ApiException.invalid(422, "unknown field '" + name + "'; a budget takes day_usd, month_usd and day_minutes");
            }
        }
        long now = clock.millis();
        BudgetOverride o = new BudgetOverride(usd(body, "day_usd"), usd(body, "month_usd"), minutes(body), now);
        return set(clientIds.canonical(clientId), o, now);
    }

    @DELETE
    @RolesAllowed(Role.SERVICE_NAME)
    public Map<String, Object> delete(@PathParam("client_id") String clientId) {
        long now = clock.millis();
        return set(clientIds.canonical(clientId), new BudgetOverride(BudgetOverride.INHERIT, BudgetOverride.INHERIT,
                BudgetOverride.INHERIT, now), now);
    }

    private Map<String, Object> set(String client, BudgetOverride o, long now) {
        audit.saveBudgetOverride(client, o);
        ClientBudgets.View v = budgets.override(client, o, now);
        changed.accept(client);
        return ClientBudgetView.of(v, budgets.zone());
    }

    /** Absent: the default; null: no limit; else a non-negative amount with at most nine places. */
    private static long usd(JsonNode body, String field) {
        BigDecimal v = amount(body, field);
        if (v == null) {
            return body.has(field) ? BudgetLimits.NONE : BudgetOverride.INHERIT;
        }
        try {
            return Money.nanoUsd(v);
        } catch (ArithmeticException | IllegalArgumentException e) {
            throw ApiException.invalid(422, field + " must be an amount in USD with at most 9 decimal places");
        }
    }

    private static long minutes(JsonNode body) {
        BigDecimal v = amount(body, "day_minutes");
        if (v == null) {
            return body.has("day_minutes") ? BudgetLimits.NONE : BudgetOverride.INHERIT;
        }
        try {
            return CostProtectionFactory.minutesToMillis(v);
        } catch (ArithmeticException e) {
            throw ApiException.invalid(422, "day_minutes is too large");
        }
    }

    /** The field's value: null when absent or null; 422 unless a non-negative number (or a decimal string) of sane size. */
    private static BigDecimal amount(JsonNode body, String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        String rule = field + " must be null (no limit) or a number from 0 to 999999999";
        BigDecimal v = KnownFields.decimal(n, rule);
        if (v.signum() < 0 || v.compareTo(BigDecimal.valueOf(1_000_000_000L)) >= 0) {
            throw ApiException.invalid(422, rule);
        }
        return v;
    }
}

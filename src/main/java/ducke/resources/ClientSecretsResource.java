package ducke.resources;

import com.fasterxml.jackson.databind.JsonNode;
import ducke.api.ClientSecretRequest;
import ducke.api.ClientSecretResponse;
import ducke.core.auth.ClientSecrets;
import ducke.core.auth.Role;
import ducke.core.cost.ModelAllowList;
import ducke.core.cost.Money;
import ducke.errors.ApiException;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.math.BigDecimal;
import java.time.Clock;
import java.util.function.LongSupplier;

/**
 * Client secrets for end users (mirrors the provider's ephemeral keys, so browser code does not
 * change): a trusted backend mints one per user, the user's client presents it when it opens
 * {@code /v1/realtime} or {@code /session}, and the session is then that user's.
 */
@Path("/v1/realtime/client_secrets")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@RolesAllowed(Role.SERVICE_NAME)
public final class ClientSecretsResource {

    static final long DEFAULT_TTL_SECONDS = 600;
    static final long MAX_TTL_SECONDS = 3600;

    private final ClientSecrets secrets;
    private final Clock clock;
    private final ModelAllowList models;
    private final LongSupplier maxSessionCost;
    private final ClientIds clientIds;

    public ClientSecretsResource(ClientSecrets secrets, Clock clock, ModelAllowList models, LongSupplier maxSessionCost,
                                 ClientIds clientIds) {
        this.clientIds = clientIds;
        this.secrets = secrets;
        this.clock = clock;
        this.models = models;
        this.maxSessionCost = maxSessionCost;
    }

    @POST
    public Response mint(ClientSecretRequest body) {
        if (body != null) {
            KnownFields.require(body.unknownFields(),
                    "a client secret takes client_id, expires_after_seconds, model and max_cost_usd");
        }
        String clientId = body == null ? null : KnownFields.text(body.clientId(), "client_id");
        if (clientId == null || clientId.isBlank()) {
            throw ApiException.invalid(422, "client_id is required");
        }
        String client = clientIds.canonical(clientId);
        long ttl = ttlSeconds(body.expiresAfterSeconds());
        String model = models.choose(KnownFields.text(body.model(), "model")).orElseThrow(
                () -> ApiException.invalid(422, "model not allowed; allowed: " + String.join(", ", models.allowed())));
        long maxCost = maxCost(body.maxCostUsd());
        var minted = secrets.mint(client, model, maxCost, ttl * 1000, clock.millis());
        return Response.status(201).entity(new ClientSecretResponse(minted.value(), minted.secret().expiresAtMillis() / 1000,
                client, model, Money.usd(maxCost))).build();
    }

    /** A whole number of seconds, 1..{@link #MAX_TTL_SECONDS}; the default when absent. */
    private static long ttlSeconds(JsonNode v) {
        if (v == null || v.isNull()) {
            return DEFAULT_TTL_SECONDS;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 1 || v.asLong() > MAX_TTL_SECONDS) {
            throw ApiException.invalid(422, "expires_after_seconds must be a whole number of seconds, 1.." + MAX_TTL_SECONDS);
        }
        return v.asLong();
    }

    private long maxCost(JsonNode requested) {
        long maxSessionCostNanoUsd = maxSessionCost.getAsLong();
        if (requested == null || requested.isNull()) {
            return maxSessionCostNanoUsd;
        }
        String bounds = "max_cost_usd must be an amount more than 0 and at most the session cap of "
                + Money.usd(maxSessionCostNanoUsd).toPlainString();
        BigDecimal usd = KnownFields.decimal(requested, bounds);
        if (usd.signum() <= 0 || usd.compareTo(Money.usd(maxSessionCostNanoUsd)) > 0) {
            throw ApiException.invalid(422, bounds);
        }
        long nano;
        try {
            nano = Money.nanoUsd(usd);
        } catch (ArithmeticException | IllegalArgumentException e) {
            throw ApiException.invalid(422, "max_cost_usd must be a decimal with at most 9 places");
        }
        if (nano <= 0 || nano > maxSessionCostNanoUsd) {
            throw ApiException.invalid(422, "max_cost_usd must be more than 0 and at most the session cap of "
                    + Money.usd(maxSessionCostNanoUsd).toPlainString());
        }
        return nano;
    }
}

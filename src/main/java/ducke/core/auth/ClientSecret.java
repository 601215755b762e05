package ducke.core.auth;

/**
 * A client secret minted by the guard for one end user (the provider's ephemeral-key flow): who the
 * holder is, which model and budget its sessions get, and until when it is valid. Only its digest
 * is stored; the value itself is shown once, to the backend that minted it.
 *
 * @param maxCostNanoUsd the budget of each session opened with it
 * @param expiresAtMillis wall-clock epoch milliseconds
 */
public record ClientSecret(String clientId, String model, long maxCostNanoUsd, long expiresAtMillis) {

    public ClientSecret {
        if (clientId == null || clientId.isBlank() || model == null || model.isBlank() || maxCostNanoUsd <= 0) {
            throw new IllegalArgumentException("a client secret needs a client, a model and a budget");
        }
    }

    public boolean validAt(long nowMillis) {
        return nowMillis < expiresAtMillis;
    }

    /** The stored form: one line per field (client ids and models hold no line breaks). */
    public String encode() {
        return clientId + "\n" + model + "\n" + maxCostNanoUsd + "\n" + expiresAtMillis;
    }

    public static ClientSecret decode(String stored) {
        String[] f = stored.split("\n", -1);
        if (f.length != 4) {
            throw new IllegalArgumentException("not a stored client secret");
        }
        return new ClientSecret(f[0], f[1], Long.parseLong(f[2]), Long.parseLong(f[3]));
    }
}

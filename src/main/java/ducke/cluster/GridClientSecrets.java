package ducke.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import ducke.core.auth.ClientSecret;
import ducke.core.auth.ClientSecrets;

import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Client-secret digests in the grid, each with its secret's lifetime; valid on every node; calls have the grid-call deadline. */
final class GridClientSecrets implements ClientSecrets.Store {

    static final String MAP = "ducke-client-secrets";

    private final IMap<String, String> map;
    private final GridCalls calls;

    GridClientSecrets(HazelcastInstance hz, GridCalls calls) {
        this.map = hz.getMap(MAP);
        this.calls = calls;
    }

    @Override
    public void put(String digest, ClientSecret secret, long ttlMillis) {
        calls.await("storing a client secret",
                () -> map.setAsync(digest, secret.encode(), Math.max(1, ttlMillis), TimeUnit.MILLISECONDS));
    }

    @Override
    public Optional<ClientSecret> get(String digest) {
        String stored = calls.await("checking a client secret", () -> map.getAsync(digest));
        return stored == null ? Optional.empty() : Optional.of(ClientSecret.decode(stored));
    }
}

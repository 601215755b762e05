package ducke.errors;

import ducke.core.cluster.ClusterUnavailableException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/** A grid that missed its deadline or cannot be reached: 503 {@code cluster_degraded} with Retry-After. */
public final class ClusterUnavailableExceptionMapper implements ExceptionMapper<ClusterUnavailableException> {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterUnavailableExceptionMapper.class);

    /** The answer for {@code e}, also written by servlet filters that run outside Jersey. */
    public static ApiException degraded(ClusterUnavailableException e) {
        return new ApiException(503, ErrorWords.CLUSTER_DEGRADED, e.getMessage(),
                Map.of("retry_after_seconds", e.retryAfterSeconds()),
                Map.of("Retry-After", Long.toString(e.retryAfterSeconds())));
    }

    @Override
    public Response toResponse(ClusterUnavailableException e) {
        LOG.warn("Answered 503 cluster_degraded: {}", e.getMessage());
        return new ApiExceptionMapper().toResponse(degraded(e));
    }
}

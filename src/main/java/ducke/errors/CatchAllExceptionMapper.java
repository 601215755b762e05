package ducke.errors;

import ducke.api.ErrorBody;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/** Anything unexpected: logged with an id, answered 500 with that id and no stack trace. */
public final class CatchAllExceptionMapper implements ExceptionMapper<Throwable> {

    private static final Logger LOG = LoggerFactory.getLogger(CatchAllExceptionMapper.class);

    @Override
    public Response toResponse(Throwable e) {
        String id = Long.toHexString(ThreadLocalRandom.current().nextLong());
        LOG.error("Unhandled error {}", id, e);
        return Response.status(500).type(MediaType.APPLICATION_JSON_TYPE)
                .entity(new ErrorBody(500, ErrorWords.INTERNAL_ERROR, "Internal server error", Map.of("error_id", id)))
                .build();
    }
}

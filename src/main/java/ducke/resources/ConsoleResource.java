package ducke.resources;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * {@code GET /console}: the operator console, one self-contained page (inline CSS and script) read
 * once from the classpath. The page itself is public; everything it shows comes from the operator
 * API with the token the operator types in, which the page keeps in the tab's sessionStorage only.
 */
@Path("/console")
@Produces(MediaType.TEXT_HTML)
public final class ConsoleResource {

    static final String PAGE = "/ducke/console.html";

    private final String page;

    public ConsoleResource() {
        try (InputStream in = ConsoleResource.class.getResourceAsStream(PAGE)) {
            if (in == null) {
                throw new IllegalStateException("the console page " + PAGE + " is missing from the classpath");
            }
            this.page = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @GET
    public String page() {
        return page;
    }
}

package ducke.config;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;

/** The {@code upstream} block: the paid realtime model behind this service. */
public class UpstreamFactory {

    /** Model used when a session does not ask for one. */
    @NotBlank
    @Pattern(regexp = "[A-Za-z0-9._:-]{1,64}")
    private String model = "gpt-realtime";

    public String getModel() { return model; }
    public void setModel(String model) { this.model = model; }
}

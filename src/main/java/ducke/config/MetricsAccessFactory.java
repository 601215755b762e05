package ducke.config;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import ducke.core.identity.Cidr;
import io.dropwizard.metrics.common.MetricsFactory;
import jakarta.validation.constraints.NotNull;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code metrics} block: Dropwizard's own metrics settings plus {@code allowFrom}, the direct
 * peers that may read {@code /metrics}.
 */
public class MetricsAccessFactory extends MetricsFactory {

    @NotNull
    @CidrList
    @JsonDeserialize(using = CommaSeparatedListDeserializer.class)
    private List<String> allowFrom = new ArrayList<>(List.of(
            "127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"));

    public List<String> getAllowFrom() { return allowFrom; }
    public void setAllowFrom(List<String> allowFrom) { this.allowFrom = allowFrom; }

    public List<Cidr> allowed() {
        return allowFrom.stream().map(Cidr::parse).toList();
    }
}

package ducke;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.dropwizard.metrics.common.MetricsFactory;
import ducke.cluster.HazelcastFactory;
import ducke.config.AuditFactory;
import ducke.config.AuthFactory;
import ducke.config.ClientIdentityFactory;
import ducke.config.CostProtectionFactory;
import ducke.config.PricesFactory;
import ducke.config.RelayFactory;
import ducke.config.UpstreamFactory;
import ducke.config.MetricsAccessFactory;
import ducke.config.RateLimitFactory;
import ducke.config.TlsFactory;
import io.dropwizard.core.Configuration;
import io.dropwizard.util.DataSize;
import io.dropwizard.util.DataSizeUnit;
import io.dropwizard.util.Duration;
import io.dropwizard.validation.MaxDuration;
import io.dropwizard.validation.MinDuration;
import io.dropwizard.validation.MaxDataSize;
import io.dropwizard.validation.ValidationMethod;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.Pattern;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** The YAML root: one block per subsystem. */
public class DuckeConfiguration extends Configuration {

    /** This node's name in status, logs and audit rows; empty = host name and grid port. */
    @NotNull
    @Pattern(regexp = "[A-Za-z0-9._-]{0,64}", message = "must be up to 64 characters of A-Z a-z 0-9 . _ -")
    private String nodeName = "";

    /**
     * This node's own directory on local disk: the charge journal it keeps without a quorum (and,
     * by default, the H2 audit file). Never shared by two running nodes.
     */
    @NotEmpty
    private String dataDir = "./data";

    /** Largest request body the API accepts; larger ones get 413 before they are read. */
    @NotNull
    @MaxDataSize(value = 16, unit = DataSizeUnit.MEBIBYTES)
    private DataSize maxRequestBodySize = DataSize.kibibytes(64);

    /**
     * How long live relayed sessions may go on once this node drains (SIGTERM, task {@code drain})
     * before the rest are ended; 0 ends them at once.
     */
    @NotNull
    @MinDuration(value = 0, unit = java.util.concurrent.TimeUnit.SECONDS)
    @MaxDuration(value = 24, unit = java.util.concurrent.TimeUnit.HOURS)
    private Duration drainTimeout = Duration.minutes(5);

    @Valid
    @NotNull
    private HazelcastFactory hazelcast = new HazelcastFactory();

    @Valid
    @NotNull
    private RateLimitFactory rateLimits = new RateLimitFactory();

    @Valid
    @NotNull
    private ClientIdentityFactory clientIdentity = new ClientIdentityFactory();

    @Valid
    @NotNull
    private AuthFactory auth = new AuthFactory();

    @Valid
    @NotNull
    private CostProtectionFactory costProtection = new CostProtectionFactory();

    @Valid
    @NotNull
    private PricesFactory prices = new PricesFactory();

    @Valid
    @NotNull
    private UpstreamFactory upstream = new UpstreamFactory();

    @Valid
    @NotNull
    private RelayFactory relay = new RelayFactory();

    @Valid
    @NotNull
    private AuditFactory audit = new AuditFactory();

    @Valid
    @NotNull
    private TlsFactory tls = new TlsFactory();

    public DuckeConfiguration() {
        setMetricsFactory(new MetricsAccessFactory());
    }

    @JsonProperty public String getNodeName() { return nodeName; }
    @JsonProperty public void setNodeName(String nodeName) { this.nodeName = nodeName; }
    @JsonProperty public String getDataDir() { return dataDir; }
    @JsonProperty public void setDataDir(String dataDir) { this.dataDir = dataDir; }
    @JsonProperty public DataSize getMaxRequestBodySize() { return maxRequestBodySize; }
    @JsonProperty public void setMaxRequestBodySize(DataSize v) { this.maxRequestBodySize = v; }
    @JsonProperty public Duration getDrainTimeout() { return drainTimeout; }
    @JsonProperty public void setDrainTimeout(Duration v) { this.drainTimeout = v; }
    @JsonProperty public HazelcastFactory getHazelcast() { return hazelcast; }
    @JsonProperty public void setHazelcast(HazelcastFactory hazelcast) { this.hazelcast = hazelcast; }
    @JsonProperty public RateLimitFactory getRateLimits() { return rateLimits; }
    @JsonProperty public void setRateLimits(RateLimitFactory rateLimits) { this.rateLimits = rateLimits; }
    @JsonProperty public ClientIdentityFactory getClientIdentity() { return clientIdentity; }
    @JsonProperty public void setClientIdentity(ClientIdentityFactory clientIdentity) { this.clientIdentity = clientIdentity; }
    @JsonProperty public CostProtectionFactory getCostProtection() { return costProtection; }
    @JsonProperty public void setCostProtection(CostProtectionFactory v) { this.costProtection = v; }
    @JsonProperty public PricesFactory getPrices() { return prices; }
    @JsonProperty public void setPrices(PricesFactory v) { this.prices = v; }
    @JsonProperty public UpstreamFactory getUpstream() { return upstream; }
    @JsonProperty public void setUpstream(UpstreamFactory v) { this.upstream = v; }
    @JsonProperty public AuditFactory getAudit() { return audit; }
    @JsonProperty public void setAudit(AuditFactory v) { this.audit = v; }
    @JsonProperty public RelayFactory getRelay() { return relay; }
    @JsonProperty public void setRelay(RelayFactory v) { this.relay = v; }
    @JsonProperty public AuthFactory getAuth() { return auth; }
    @JsonProperty public void setAuth(AuthFactory auth) { this.auth = auth; }
    @JsonProperty public TlsFactory getTls() { return tls; }
    @JsonProperty public void setTls(TlsFactory tls) { this.tls = tls; }

    /** Dropwizard's {@code metrics} block, extended with {@code allowFrom}. */
    @Override
    @JsonProperty("metrics")
    @JsonDeserialize(as = MetricsAccessFactory.class)
    public void setMetricsFactory(MetricsFactory factory) {
        super.setMetricsFactory(factory);
    }

    public MetricsAccessFactory getMetricsAccess() {
        return (MetricsAccessFactory) getMetricsFactory();
    }

    /** A cluster shares one set of tokens: tokens generated per node would be refused by the others. */
    @ValidationMethod(message = "a cluster (HAZELCAST_MEMBERS or HAZELCAST_KUBERNETES_SERVICE_DNS set) needs a configured service token: "
            + "set DUCKE_SERVICE_TOKEN (auth.serviceTokens) to the same value on every node")
    @JsonIgnore
    public boolean isServiceTokenConfiguredForCluster() {
        return !hazelcast.isClustered() || !auth.getServiceTokens().isEmpty();
    }

    @ValidationMethod(message = "a cluster (HAZELCAST_MEMBERS or HAZELCAST_KUBERNETES_SERVICE_DNS set) needs a configured operator token: "
            + "set DUCKE_OPERATOR_TOKEN (auth.operatorTokens) to the same value on every node")
    @JsonIgnore
    public boolean isOperatorTokenConfiguredForCluster() {
        return !hazelcast.isClustered() || !auth.getOperatorTokens().isEmpty();
    }

    /** The configured node name, or host name and grid port when none is set. */
    public String resolvedNodeName() {
        if (!nodeName.isBlank()) {
            return nodeName;
        }
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "node";
        }
        return host + "-" + hazelcast.getPort();
    }
}

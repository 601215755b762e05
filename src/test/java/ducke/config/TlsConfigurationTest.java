package ducke.config;

import ducke.DuckeApplication;
import ducke.DuckeConfiguration;
import ducke.testing.TestApps;
import ducke.testing.TestKeystore;
import io.dropwizard.configuration.ConfigurationException;
import io.dropwizard.configuration.ConfigurationFactory;
import io.dropwizard.configuration.ConfigurationSourceProvider;
import io.dropwizard.configuration.DefaultConfigurationFactoryFactory;
import io.dropwizard.configuration.FileConfigurationSourceProvider;
import io.dropwizard.core.server.DefaultServerFactory;
import io.dropwizard.core.server.SimpleServerFactory;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.jersey.validation.Validators;
import io.dropwizard.jetty.HttpsConnectorFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The tls block: off by default, and every bad setting stops start-up naming its variable. */
class TlsConfigurationTest {

    private final ConfigurationFactory<DuckeConfiguration> factory = new DefaultConfigurationFactoryFactory<DuckeConfiguration>()
            .create(DuckeConfiguration.class, Validators.newValidator(), new Bootstrap<>(new DuckeApplication()).getObjectMapper(), "dw");

    @TempDir
    static Path dir;
    private static TestKeystore keystore;

    @BeforeAll
    static void createKeystore() {
        keystore = TestKeystore.create(dir);
    }

    private DuckeConfiguration parse(String yaml) throws Exception {
        ConfigurationSourceProvider fromString = path -> new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8));
        return factory.build(fromString, "test.yml");
    }

    private static String tls(Object port, Path keystore, String password) {
        return "tls:\n  port: " + port + "\n  keystorePath: \"" + (keystore == null ? "" : keystore) + "\"\n"
                + "  keystorePassword: \"" + password + "\"\n";
    }

    @Test
    void offByDefaultAndWhenThePortIsEmptyOrZero() throws Exception {
        assertThat(factory.build(ConfigVariableSource.substituting(new FileConfigurationSourceProvider(), TestApps.VARIABLES::get),
                TestApps.configPath()).getTls().enabled()).isFalse();
        assertThat(parse("nodeName: a\n").getTls().enabled()).isFalse();
        assertThat(parse("tls:\n  port:\n").getTls().enabled()).isFalse();
        assertThat(parse(tls(0, null, "")).getTls().enabled()).isFalse();
    }

    @Test
    void aPortWithoutKeystoreNamesTheVariable() {
        assertThatThrownBy(() -> parse(tls(8443, null, "")))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("tls.keystorePath")
                .hasMessageContaining("DUCKE_TLS_KEYSTORE_PATH");
    }

    @Test
    void aMissingOrUnreadableKeystoreNamesTheVariable() throws Exception {
        assertThatThrownBy(() -> parse(tls(8443, dir.resolve("missing.p12"), "x")))
                .hasMessageContaining("DUCKE_TLS_KEYSTORE_PATH").hasMessageContaining("missing.p12");
        Path garbage = Files.writeString(dir.resolve("garbage.p12"), "not a keystore");
        assertThatThrownBy(() -> parse(tls(8443, garbage, "x")))
                .hasMessageContaining("DUCKE_TLS_KEYSTORE_PASSWORD").hasMessageContaining("garbage.p12");
    }

    @Test
    void aWrongPasswordNamesTheVariable() {
        assertThatThrownBy(() -> parse(tls(8443, keystore.path(), "wrong-password")))
                .hasMessageContaining("tls.keystorePassword")
                .hasMessageContaining("DUCKE_TLS_KEYSTORE_PASSWORD");
    }

    @Test
    void aGoodKeystoreAddsAnHttpsApplicationConnector() throws Exception {
        DuckeConfiguration c = parse(tls(8443, keystore.path(), keystore.password()));
        c.getTls().addConnectorTo(c.getServerFactory());
        DefaultServerFactory server = (DefaultServerFactory) c.getServerFactory();
        assertThat(server.getApplicationConnectors()).hasSize(2);
        HttpsConnectorFactory https = (HttpsConnectorFactory) server.getApplicationConnectors().get(1);
        assertThat(https.getPort()).isEqualTo(8443);
        assertThat(https.getKeyStoreType()).isEqualTo("PKCS12");
        assertThat(https.getKeyStorePath()).isEqualTo(keystore.path().toString());
    }

    @Test
    void theSimpleServerTypeIsRefusedWithTheReason() {
        TlsFactory tls = new TlsFactory();
        tls.setPort(8443);
        assertThatThrownBy(() -> tls.addConnectorTo(new SimpleServerFactory()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("DUCKE_TLS_PORT");
    }
}

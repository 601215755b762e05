package ducke.core.settings;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VersionedDocumentTest {

    @Test
    void theWireFormStartsWithItsWireVersionAndRoundTrips() {
        VersionedDocument d = new VersionedDocument(42, "{\"prices\":{\"é\":1}}");
        byte[] wire = d.encode();
        assertThat(wire[0]).isEqualTo(VersionedDocument.WIRE_VERSION);
        assertThat(VersionedDocument.decode(wire)).isEqualTo(d);
    }

    @Test
    void anotherWireVersionIsRefusedNotMisread() {
        byte[] wire = new VersionedDocument(2, "{}").encode();
        wire[0] = 2;
        assertThatThrownBy(() -> VersionedDocument.decode(wire)).hasMessageContaining("wire version 2");
        assertThatThrownBy(() -> VersionedDocument.decode(new byte[3])).hasMessageContaining("not a settings document");
    }
}

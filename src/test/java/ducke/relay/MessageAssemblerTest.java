package ducke.relay;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MessageAssemblerTest {

    private static ByteBuffer utf8(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aWholeFrameIsCopiedOnceAndTheNetworkBufferLeftAlone() throws Exception {
        ByteBuffer network = utf8("{\"type\":\"x\"}");
        MessageAssembler.Message m = new MessageAssembler(100).accept(MessageAssembler.TEXT, network, true);
        assertThat(m.text()).isTrue();
        assertThat(m.payload()).isEqualTo(utf8("{\"type\":\"x\"}"));
        assertThat(network.position()).isZero();
        network.put(0, (byte) '[');
        assertThat(m.payload().get(0)).as("a copy, not a view").isEqualTo((byte) '{');
    }

    @Test
    void fragmentsAreJoinedInOrderAndEmptyOnesAreFine() throws Exception {
        MessageAssembler a = new MessageAssembler(1_000);
        assertThat(a.accept(MessageAssembler.BINARY, ByteBuffer.wrap(new byte[]{1, 2}), false)).isNull();
        assertThat(a.accept(MessageAssembler.CONTINUATION, null, false)).isNull();
        MessageAssembler.Message m = a.accept(MessageAssembler.CONTINUATION, ByteBuffer.wrap(new byte[]{3}), true);
        assertThat(m.text()).isFalse();
        assertThat(m.payload()).isEqualTo(ByteBuffer.wrap(new byte[]{1, 2, 3}));
        MessageAssembler.Message next = a.accept(MessageAssembler.TEXT, utf8("ok"), true);
        assertThat(next.payload()).isEqualTo(utf8("ok"));
        assertThat(a.accept(MessageAssembler.TEXT, ByteBuffer.allocate(0), true).payload().remaining()).isZero();
    }

    @Test
    void aMessageOverTheLimitIsRefusedWholeOrInParts() throws Exception {
        MessageAssembler a = new MessageAssembler(4);
        assertThatThrownBy(() -> a.accept(MessageAssembler.TEXT, utf8("12345"), true)).isInstanceOf(MessageAssembler.TooLarge.class);
        assertThat(a.accept(MessageAssembler.TEXT, utf8("123"), false)).isNull();
        assertThatThrownBy(() -> a.accept(MessageAssembler.CONTINUATION, utf8("45"), true)).isInstanceOf(MessageAssembler.TooLarge.class);
        assertThat(a.accept(MessageAssembler.TEXT, utf8("1234"), true).payload()).as("empty again after a refusal").isEqualTo(utf8("1234"));
    }

    @Test
    void fragmentsOutOfOrderAreAProtocolError() throws Exception {
        MessageAssembler a = new MessageAssembler(100);
        assertThatThrownBy(() -> a.accept(MessageAssembler.CONTINUATION, utf8("x"), true)).isInstanceOf(IllegalStateException.class);
        a.accept(MessageAssembler.TEXT, utf8("x"), false);
        assertThatThrownBy(() -> a.accept(MessageAssembler.TEXT, utf8("y"), true)).isInstanceOf(IllegalStateException.class);
    }
}

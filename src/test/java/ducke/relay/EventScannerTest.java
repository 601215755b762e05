package ducke.relay;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class EventScannerTest {

    private static String type(String frame) {
        return EventScanner.type(ByteBuffer.wrap(frame.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void findsTheTypeOfAPlainEvent() {
        assertThat(type("{\"type\":\"response.done\",\"response\":{}}")).isEqualTo("response.done");
        assertThat(type("{\"type\":\"\"}")).isEmpty();
    }

    @Test
    void whitespaceAnywhereJsonAllowsIt() {
        assertThat(type(" \r\n{ \t\"type\"\n :\r \"response.created\" , \"x\":1}")).isEqualTo("response.created");
    }

    @Test
    void theTypeNeedNotComeFirstAndNestedTypesAreSkipped() {
        assertThat(type("{\"event_id\":\"e\\\"1\",\"response\":{\"type\":\"realtime\",\"output\":[{\"type\":\"function_call\"}],"
                + "\"s\":\"}]{[\"},\"n\":-1.5e3,\"b\":true,\"z\":null,\"type\":\"response.done\"}")).isEqualTo("response.done");
        assertThat(type("{\"item\":{\"type\":\"input_audio_buffer.append\"},\"type\":\"session.delete\"}")).isEqualTo("session.delete");
        assertThat(type("{\"item\":{\"type\":\"response.done\"}}")).as("only a nested type").isEmpty();
    }

    @Test
    void escapesInKeyAndValueAreDecoded() {
        assertThat(type("{\"t\\u0079pe\":\"response\\u002edone\"}")).isEqualTo("response.done");
        assertThat(type("{\"type\":\"a\\\"b\\\\c\\/d\\n\"}")).isEqualTo("a\"b\\c/d\n");
        assertThat(type("{\"type\":\"bad\\u00zz\"}")).isEmpty();
        assertThat(type("{\"type\":\"bad\\x\"}")).isEmpty();
        assertThat(type("{\"type\":\"cut\\u00\"}")).isEmpty();
    }

    @Test
    void nonAsciiTextBeforeAndInTheTypeIsReadAsUtf8() {
        String transcript = "こんにちは 🦆 \\\" ünïcödé ".repeat(50);
        assertThat(type("{\"delta\":\"" + transcript + "\",\"type\":\"response.output_audio_transcript.delta\"}"))
                .isEqualTo("response.output_audio_transcript.delta");
        assertThat(type("{\"type\":\"ünïcödé\"}")).isEqualTo("ünïcödé");
    }

    @Test
    void anythingElseHasNoType() {
        for (String frame : new String[]{"", "   ", "not json", "[\"type\",\"x\"]", "{\"type\":1}", "{\"type\":null}",
                "{\"type\":\"unterminated", "{\"type\"", "{\"type\" \"x\"}", "{\"a\":1 \"type\":\"x\"}", "{\"a\":{\"b\":1}",
                "{\"a\":\"x\"}", "{}", "{\"type\":\"" + "x".repeat(300) + "\"}", "\"type\":\"x\""}) {
            assertThat(type(frame)).as(frame).isEmpty();
        }
    }

    @Test
    void readsFromThePositionToTheLimitAndLeavesThemAlone() {
        byte[] bytes = "{\"type\":\"zz\"}{\"type\":\"response.done\"}{\"type\":\"yy\"}".getBytes(StandardCharsets.UTF_8);
        ByteBuffer middle = ByteBuffer.wrap(bytes, 13, 24);
        assertThat(EventScanner.type(middle)).isEqualTo("response.done");
        assertThat(middle.position()).isEqualTo(13);
        assertThat(middle.limit()).isEqualTo(37);
    }

    @Test
    void aFragmentedMessageIsScannedWhole() throws Exception {
        String event = "{\"response\":{\"output\":[{\"type\":\"message\",\"text\":\"" + "🦆".repeat(10_000) + "\"}]},\"type\":\"response.done\"}";
        byte[] utf8 = event.getBytes(StandardCharsets.UTF_8);
        MessageAssembler assembler = new MessageAssembler(1 << 20);
        // cut inside a four-byte character and inside the key "type"
        int[] cuts = {3, 30_001, utf8.length - 20, utf8.length};
        MessageAssembler.Message whole = null;
        int from = 0;
        for (int i = 0; i < cuts.length; i++) {
            ByteBuffer part = ByteBuffer.wrap(utf8, from, cuts[i] - from);
            whole = assembler.accept(i == 0 ? MessageAssembler.TEXT : MessageAssembler.CONTINUATION, part, i == cuts.length - 1);
            if (i < cuts.length - 1) {
                assertThat(whole).isNull();
            }
            from = cuts[i];
        }
        assertThat(whole.text()).isTrue();
        assertThat(EventScanner.type(whole.payload())).isEqualTo("response.done");
        assertThat(StandardCharsets.UTF_8.decode(whole.payload()).toString()).isEqualTo(event);
    }

    @Test
    void anyTopLevelStringIsFoundTheSameWay() {
        ByteBuffer frame = ByteBuffer.wrap(("{\"type\":\"response.create\",\"response\":{\"event_id\":\"nested\"},"
                + "\"event_\\u0069d\":\"evt_1\"}").getBytes(StandardCharsets.UTF_8));
        assertThat(EventScanner.string(frame, "event_id")).as("nested skipped, escaped key decoded").isEqualTo("evt_1");
        assertThat(EventScanner.string(frame, "type")).isEqualTo("response.create");
        assertThat(frame.position()).isZero();
        ByteBuffer number = ByteBuffer.wrap("{\"event_id\":7}".getBytes(StandardCharsets.UTF_8));
        assertThat(EventScanner.string(number, "event_id")).as("not a string").isEmpty();
        assertThat(EventScanner.string(ByteBuffer.wrap("{\"type\":\"x\"}".getBytes(StandardCharsets.UTF_8)), "event_id")).isEmpty();
    }
}

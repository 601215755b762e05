package ducke.relay;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class AudioAppendTest {

    @Test
    void thePlainShapeIsMeasuredWithoutParsing() {
        assertThat(chars("{\"type\":\"input_audio_buffer.append\",\"audio\":\"QUJD\"}")).isEqualTo(4);
        assertThat(chars(" { \"event_id\" : \"e1\" , \"type\":\"input_audio_buffer.append\", \"audio\":\"\" } ")).isZero();
    }

    @Test
    void anythingElseGoesToTheParser() {
        for (String frame : new String[]{
                "{\"type\":\"input_audio_buffer.append\",\"type\":\"response.create\",\"audio\":\"QUJD\"}",
                "{\"type\":\"input_audio_buffer.append\",\"audio\":\"QUJD\",\"audio\":\"x\"}",
                "{\"type\":\"input_audio_buffer.append\",\"audio\":\"QUJD\",\"response\":{}}",
                "{\"type\":\"input_audio_buffer.append\",\"audio\":\"QU\\\"JD\"}",
                "{\"type\":\"input_audio_buffer.append\"}",
                "{\"type\":\"response.create\",\"audio\":\"QUJD\"}",
                "{\"type\":\"input_audio_buffer.append\",\"audio\":\"QUJD\"} trailing",
                "{\"type\":\"input_audio_buffer.append\",\"audio\":\"QUJD\"",
                "[\"type\"]",
                "{\"type\":\"input_audio_buffer.append\",\"event_id\":\"é\",\"audio\":\"QUJD\"}",
                "{\"type\":\"input_audio_buffer.append\",\"audio\":\"QU\u00e9JD\"}",
                "{\"type\":\"input_audio_buffer.append\",\"audio\":\"QU\nJD\"}",
                "{\"typ\\u0065\":\"input_audio_buffer.append\",\"audio\":\"QUJD\"}",
                ""}) {
            assertThat(chars(frame)).as(frame).isEqualTo(-1);
        }
    }

    @Test
    void readsFromThePositionAndLeavesTheBufferAlone() {
        byte[] framed = ("xx{\"type\":\"input_audio_buffer.append\",\"audio\":\"QUJD\"}yy").getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.wrap(framed, 2, framed.length - 4);
        assertThat(AudioAppend.audioChars(b)).isEqualTo(4);
        assertThat(b.position()).isEqualTo(2);
        assertThat(b.remaining()).isEqualTo(framed.length - 4);
    }

    private static long chars(String frame) {
        return AudioAppend.audioChars(ByteBuffer.wrap(frame.getBytes(StandardCharsets.UTF_8)));
    }
}

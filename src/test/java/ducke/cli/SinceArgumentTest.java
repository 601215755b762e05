package ducke.cli;

import net.sourceforge.argparse4j.ArgumentParsers;
import net.sourceforge.argparse4j.inf.ArgumentParser;
import net.sourceforge.argparse4j.inf.ArgumentParserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code audit --since}: durations as operators write them, and a usage error for anything else. */
class SinceArgumentTest {

    private final ArgumentParser parser = ArgumentParsers.newFor("audit").build();
    private final SinceArgument type = new SinceArgument();

    private Duration parse(String text) throws ArgumentParserException {
        return type.convert(parser, null, text).duration();
    }

    @Test
    void readsNumbersWithUnits() throws ArgumentParserException {
        assertThat(parse("30m")).isEqualTo(Duration.ofMinutes(30));
        assertThat(parse("24h")).isEqualTo(Duration.ofHours(24));
        assertThat(parse("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(parse("2 weeks")).isEqualTo(Duration.ofDays(14));
        assertThat(parse(" 90 seconds ")).isEqualTo(Duration.ofSeconds(90));
        assertThat(type.convert(parser, null, "7d").toString()).isEqualTo("7d");
    }

    @ParameterizedTest
    @ValueSource(strings = {"yesterday", "", "0h", "24", "h", "1.5h", "-3d", "10 fortnights", "9999999d"})
    void refusesAnythingElseAsAUsageError(String text) {
        assertThatThrownBy(() -> parse(text)).isInstanceOf(ArgumentParserException.class)
                .hasMessageContaining("argument --since").hasMessageContaining("e.g. 30m, 24h, 7d");
    }
}

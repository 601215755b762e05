package ducke.core.auth;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BearerTokenTest {

    @Test
    void readsTheTokenAfterTheScheme() {
        assertThat(BearerToken.of("Bearer abc-123_x.y~")).isEqualTo("abc-123_x.y~");
        assertThat(BearerToken.of("Bearer ek_secret")).isEqualTo("ek_secret");
    }

    @Test
    void theSchemeIsMatchedWithoutRegardToCase() {
        assertThat(BearerToken.of("bearer abc")).isEqualTo("abc");
        assertThat(BearerToken.of("BEARER abc")).isEqualTo("abc");
    }

    @Test
    void spacesAndTabsAroundTheTokenAreNotPartOfIt() {
        assertThat(BearerToken.of("Bearer   abc  ")).isEqualTo("abc");
        assertThat(BearerToken.of("Bearer\tabc")).isEqualTo("abc");
        assertThat(BearerToken.of("  Bearer abc")).isEqualTo("abc");
    }

    @Test
    void noHeaderAnotherSchemeOrNoTokenIsNone() {
        assertThat(BearerToken.of(null)).isNull();
        assertThat(BearerToken.of("")).isNull();
        assertThat(BearerToken.of("Bearer")).isNull();
        assertThat(BearerToken.of("Bearer   ")).isNull();
        assertThat(BearerToken.of("Basic dXNlcjpwYXNz")).isNull();
        assertThat(BearerToken.of("Bearerabc")).isNull();
        assertThat(BearerToken.of("abc")).isNull();
    }

    @Test
    void aTokenOfSeveralWordsIsNone() {
        assertThat(BearerToken.of("Bearer abc def")).isNull();
        assertThat(BearerToken.of("Bearer abc\tdef")).isNull();
    }
}

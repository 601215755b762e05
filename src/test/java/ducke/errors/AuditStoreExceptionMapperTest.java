package ducke.errors;

import org.jdbi.v3.core.ConnectionException;
import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;

import static org.assertj.core.api.Assertions.assertThat;

/** Which SQL failures mean "the database cannot be reached" (503, try again) and which are ours (500). */
class AuditStoreExceptionMapperTest {

    @Test
    void connectionFailuresAreUnreachableWrongStatementsAreNot() {
        assertThat(AuditStoreExceptionMapper.unreachable(new ConnectionException(new SQLException("refused")))).isTrue();
        assertThat(AuditStoreExceptionMapper.unreachable(new RuntimeException(new SQLException("gone", "08006")))).isTrue();
        assertThat(AuditStoreExceptionMapper.unreachable(new RuntimeException(
                new SQLNonTransientConnectionException("Connection is broken", "90067")))).isTrue();
        assertThat(AuditStoreExceptionMapper.unreachable(new RuntimeException(new SQLException("relation does not exist", "42P01"))))
                .isFalse();
        assertThat(AuditStoreExceptionMapper.unreachable(new RuntimeException(new SQLException("no state")))).isFalse();
        assertThat(AuditStoreExceptionMapper.unreachable(new IllegalStateException("a bug"))).isFalse();
    }
}

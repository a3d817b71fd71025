package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class InMemoryAuditSinkTest {

    @Test
    void keepsOneEventPerIdWithTheStoresRules() {
        InMemoryAuditSink sink = new InMemoryAuditSink();
        AuditEvent started = AuditEvent.started("t", "m", "c", Events.BASE, null);
        AuditEvent finished = started.completed(Events.BASE.plusSeconds(1), 3, true, null);

        sink.write(List.of(started, started));
        sink.write(List.of(finished));
        sink.write(List.of(started)); // late: never replaces the finished event

        assertThat(sink.events()).containsExactly(finished);
    }

    @Test
    void answersTheLookups() {
        InMemoryAuditSink sink = new InMemoryAuditSink();
        AuditEvent a = Events.streaming("x", Events.BASE.plusSeconds(2), 1);
        AuditEvent b = Events.streaming("x", Events.BASE, 2);
        AuditEvent c = Events.streaming("y", Events.BASE.plusSeconds(1), 3);
        sink.write(List.of(a, b, c));

        assertThat(sink.findByCorrelationId("x")).containsExactly(b, a);
        assertThat(sink.findByType(AuditEvent.GRPC_STREAMING, Events.BASE, Events.BASE.plusSeconds(2), 10))
                .containsExactly(b, c);
        assertThat(sink.findByType(AuditEvent.GRPC_STREAMING, Events.BASE, Events.BASE.plusSeconds(9), 1))
                .containsExactly(b);
    }

    @Test
    void badLookupArgumentsAreRefused() {
        InMemoryAuditSink sink = new InMemoryAuditSink();
        assertThatThrownBy(() -> sink.findByType("t", Events.BASE, Events.BASE.minusSeconds(1), 1))
                .hasMessageStartingWith("to must not be before from");
        assertThatThrownBy(() -> sink.findByType("t", Events.BASE, Events.BASE, 0))
                .hasMessage("limit must be at least 1, got 0");
    }
}

package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class CompositeAuditSinkTest {

    @Test
    void everySinkGetsTheBatchEvenWhenAnEarlierOneFails() {
        ControllableSink failing = new ControllableSink().down();
        ControllableSink alsoFailing = new ControllableSink().down();
        InMemoryAuditSink working = new InMemoryAuditSink();
        AuditSink composite = AuditSink.composite(failing, working, alsoFailing);
        AuditEvent e = Events.finished("composite", 1);

        assertThatThrownBy(() -> composite.write(List.of(e)))
                .isInstanceOf(AuditStoreException.class)
                .hasMessage("the store is down")
                .satisfies(t -> assertThat(t.getSuppressed()).hasSize(1));
        assertThat(working.events()).containsExactly(e);
    }

    @Test
    void closingTheCompositeClosesEachSink() {
        ControllableSink a = new ControllableSink();
        ControllableSink b = new ControllableSink();

        AuditSink.composite(a, b).close();

        assertThat(a.closed).isTrue();
        assertThat(b.closed).isTrue();
    }

    @Test
    void aCompositeNeedsSinks() {
        assertThatThrownBy(AuditSink::composite)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("sinks must name at least one sink, got none");
        assertThatThrownBy(() -> AuditSink.composite(new InMemoryAuditSink(), null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("sinks[1] must not be null");
    }
}

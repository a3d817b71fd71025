package dev.sluice.pipeline.audit.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link WriteConnections}: the connections a sink keeps for writing, one per write under way, up to a limit. */
@Timeout(30)
class WriteConnectionsTest {

    @TempDir
    Path dir;

    private WriteConnections connections(int max) {
        return new WriteConnections(new DriverManagerDataSource("jdbc:sqlite:" + dir.resolve("w.db")), max);
    }

    @Test
    void writesOneAfterAnotherUseOneConnection() throws Exception {
        try (WriteConnections kept = connections(4)) {
            WriteConnection first = kept.acquire();
            Connection c = first.get();
            kept.release(first);

            WriteConnection again = kept.acquire();
            assertThat(again).isSameAs(first);
            assertThat(again.get()).isSameAs(c);
            kept.release(again);
        }
    }

    @Test
    void writesUnderWayAtOnceEachHaveTheirOwnUpToTheLimit() throws Exception {
        try (WriteConnections kept = connections(2)) {
            // given two writes under way
            WriteConnection a = kept.acquire();
            WriteConnection b = kept.acquire();
            assertThat(a).isNotSameAs(b);

            // when a third asks for one, then it waits until one is given back, and gets that one
            CompletableFuture<WriteConnection> third = new CompletableFuture<>();
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    WriteConnection w = kept.acquire();
                    kept.release(w); // by the thread that acquired it
                    third.complete(w);
                } catch (InterruptedException e) {
                    third.completeExceptionally(e);
                }
            });
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> waiter.getState() == Thread.State.WAITING);
            assertThat(third).isNotDone();
            kept.release(b);
            assertThat(third.get(10, TimeUnit.SECONDS)).isSameAs(b);
            kept.release(a);
        }
    }

    @Test
    void aWriteWaitingForAConnectionCanBeInterruptedAndHoldsNone() throws Exception {
        try (WriteConnections kept = connections(1)) {
            // given the only connection in use, and a second write waiting for it
            WriteConnection held = kept.acquire();
            CompletableFuture<WriteConnection> waiting = new CompletableFuture<>();
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    waiting.complete(kept.acquire());
                } catch (InterruptedException e) {
                    waiting.completeExceptionally(e);
                }
            });
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> waiter.getState() == Thread.State.WAITING);

            // when it is interrupted, then it gives up with InterruptedException
            waiter.interrupt();
            assertThat(waiting)
                    .failsWithin(Duration.ofSeconds(10))
                    .withThrowableOfType(ExecutionException.class)
                    .withCauseInstanceOf(InterruptedException.class);

            // and the connection, once given back, is the next write's at once
            kept.release(held);
            WriteConnection next = kept.acquire();
            assertThat(next).isSameAs(held);
            kept.release(next);
        }
    }

    @Test
    void closeClosesEveryConnectionOpened() throws Exception {
        WriteConnections kept = connections(2);
        WriteConnection a = kept.acquire();
        WriteConnection b = kept.acquire();
        Connection ca = a.get();
        Connection cb = b.get();
        kept.release(a);
        kept.release(b);

        kept.close();

        assertThat(ca.isClosed()).isTrue();
        assertThat(cb.isClosed()).isTrue();
    }

    @Test
    void aLimitBelowOneIsRefused() {
        assertThatThrownBy(() -> connections(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("max must be at least 1, got 0");
    }
}

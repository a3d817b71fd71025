package dev.sluice.pipeline.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The carrier-placement diagnostic: what it reads from the JDK, what it checks, and how it refuses bad arguments. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CarrierPlacementTest {

    @ParameterizedTest
    @EnumSource(
            value = LinkKind.class,
            names = {"SLUICE_SPSC", "SLUICE_MPMC", "ARRAY_BLOCKING_QUEUE"})
    void aRoundMovesEveryItemAndGivesAShareBetweenNoneAndAll(LinkKind kind) throws InterruptedException {
        CarrierPlacement.Round round = CarrierPlacement.round(kind.create(16, 1, 1), Items.boxed(20_000));

        assertThat(round.sameCarrierShare()).isBetween(0.0, 1.0);
        assertThat(round.movedShare()).isBetween(0.0, 1.0);
        assertThat(round.nanosPerItem()).isPositive();
    }

    @Test
    void sharesCountCommonCarriersAtAPositionAndChangesBetweenNotes() {
        String[] sender = {"w-1", "w-1", "w-2", "w-2", "w-1"};
        String[] receiver = {"w-1", "w-2", "w-2", "w-2", "w-2"};

        double[] shares = CarrierPlacement.shares(sender, receiver);

        assertThat(shares[0]).isEqualTo(3 / 5.0); // positions 0, 2 and 3
        assertThat(shares[1]).isEqualTo(3 / 8.0); // the sender moved twice, the receiver once, in 4 + 4 intervals
    }

    @Test
    void sharesRefuseNotesOfDifferentLengths() {
        assertThatThrownBy(() -> CarrierPlacement.shares(new String[] {"a", "b"}, new String[] {"a"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("expected two arrays of the same length, at least 2, got 2 and 1");
    }

    @Test
    void aVirtualThreadsCarrierIsNamedByItsToString() throws InterruptedException {
        AtomicReference<String> carrier = new AtomicReference<>();
        Thread t = Thread.ofVirtual().start(() -> carrier.set(CarrierPlacement.carrier()));
        t.join();

        assertThat(carrier.get()).startsWith("ForkJoinPool-").contains("-worker-");
    }

    @Test
    void aPlatformThreadHasNoCarrier() {
        assertThatThrownBy(CarrierPlacement::carrier)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not a mounted virtual thread");
    }

    @Test
    void oneRoundPrintsItsTimeAndShare() throws InterruptedException {
        Output out = new Output();
        Output err = new Output();

        int status = CarrierPlacement.run(new String[] {"array-blocking-queue", "64", "1"}, out.stream, err.stream);

        assertThat(status).isZero();
        assertThat(out.text()).matches("round 1: \\d+ ns/item, same carrier \\d+%, moved \\d+%\\R");
        assertThat(err.text()).isEmpty();
    }

    @Test
    void badArgumentsEndInOneLineNamingTheValueAndStatusTwo() throws InterruptedException {
        assertRefused(new String[] {"sluice-mpmc", "16"}, "expected 3 arguments (KIND CAPACITY ROUNDS), got 2");
        assertRefused(new String[] {"queue", "16", "1"}, "KIND is 'queue'; expected one of sluice-spsc, sluice-mpmc,");
        assertRefused(new String[] {"sluice-mpmc", "0", "1"}, "CAPACITY is '0'; expected a whole number of at least 1");
        assertRefused(new String[] {"sluice-mpmc", "1024", "1"}, "CAPACITY is 1024; expected at most 256");
        assertRefused(new String[] {"sluice-mpmc", "16", "x"}, "ROUNDS is 'x'; expected a whole number of at least 1");
    }

    private static void assertRefused(String[] args, String message) throws InterruptedException {
        Output out = new Output();
        Output err = new Output();

        assertThat(CarrierPlacement.run(args, out.stream, err.stream)).isEqualTo(2);
        assertThat(err.text()).startsWith("CarrierPlacement: " + message).hasLineCount(1);
        assertThat(out.text()).isEmpty();
    }

    private static final class Output {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final PrintStream stream = new PrintStream(bytes, true, StandardCharsets.UTF_8);

        String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }
}

package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.pipeline.CheckpointStore;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PositionTracker;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checkpoints in SQLite, PostgreSQL and MariaDB: saved, replaced, loaded; names that match exactly; and a job that
 * resumes where it stopped. {@link JdbcCheckpointStoreMariaDbTest} covers MariaDB's tables of an older DDL.
 */
@Timeout(60)
class JdbcCheckpointStoreTest {

    @TempDir
    static Path dir;

    static Stream<Object[]> stores() {
        Supplier<CheckpointStore> sqlite = () -> JdbcCheckpointStore.sqlite(dir.resolve("checkpoints.db"));
        Supplier<CheckpointStore> postgres = () -> JdbcCheckpointStore.forDataSource(Postgres.dataSource());
        Supplier<CheckpointStore> mariadb = () -> JdbcCheckpointStore.forDataSource(MariaDb.dataSource());
        return Stream.of(
                new Object[] {"SQLite", sqlite}, new Object[] {"PostgreSQL", postgres}, new Object[] {"MariaDB", mariadb
                });
    }

    private static String uniqueName() {
        return "job-" + UUID.randomUUID();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stores")
    void aSavedPositionIsLoadedReplacedAndDeleted(String db, Supplier<CheckpointStore> stores) {
        // given
        CheckpointStore store = stores.get();
        String name = uniqueName();
        // then
        assertThat(store.load(name)).isEmpty();
        // when
        store.save(name, 41);
        store.save(name, 1_000_000_000_000L);
        // then: a fresh store on the same database sees the last save
        assertThat(stores.get().load(name)).isEqualTo(OptionalLong.of(1_000_000_000_000L));
        // when
        store.delete(name);
        // then
        assertThat(stores.get().load(name)).isEmpty();
        assertThatThrownBy(() -> store.save(" ", 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("name must not be blank, got ' '");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stores")
    void namesThatDifferOnlyInCaseOrAccentsAreDifferentCheckpoints(String db, Supplier<CheckpointStore> stores) {
        // given
        CheckpointStore store = stores.get();
        String id = UUID.randomUUID().toString();
        String upper = "Orders-" + id + ".csv";
        String lower = "orders-" + id + ".csv";
        String plain = "resume-" + id;
        String accented = "résumé-" + id;
        // when
        store.save(upper, 5);
        store.save(plain, 8);
        // then: job B does not resume at job A's position
        assertThat(store.load(lower)).isEmpty();
        assertThat(store.load(accented)).isEmpty();
        // when
        store.save(lower, 7);
        store.save(accented, 9);
        // then: each keeps its own, in a fresh store too
        CheckpointStore fresh = stores.get();
        assertThat(fresh.load(upper)).hasValue(5);
        assertThat(fresh.load(lower)).hasValue(7);
        assertThat(fresh.load(plain)).hasValue(8);
        assertThat(fresh.load(accented)).hasValue(9);
        // when: deleting one leaves the other
        store.delete(lower);
        store.delete(accented);
        // then
        assertThat(fresh.load(lower)).isEmpty();
        assertThat(fresh.load(upper)).hasValue(5);
        assertThat(fresh.load(accented)).isEmpty();
        assertThat(fresh.load(plain)).hasValue(8);
        store.delete(upper);
        store.delete(plain);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stores")
    void trailingSpacesAreSignificant(String db, Supplier<CheckpointStore> stores) {
        // given: three names the blank check accepts, equal but for trailing spaces
        CheckpointStore store = stores.get();
        String job = "job-" + UUID.randomUUID();
        // when
        store.save(job, 1);
        // then
        assertThat(store.load(job + " ")).isEmpty();
        // when
        store.save(job + " ", 2);
        store.save(job + "  ", 3);
        // then
        CheckpointStore fresh = stores.get();
        assertThat(fresh.load(job)).hasValue(1);
        assertThat(fresh.load(job + " ")).hasValue(2);
        assertThat(fresh.load(job + "  ")).hasValue(3);
        // when
        store.delete(job + " ");
        // then
        assertThat(fresh.load(job)).hasValue(1);
        assertThat(fresh.load(job + " ")).isEmpty();
        assertThat(fresh.load(job + "  ")).hasValue(3);
        store.delete(job);
        store.delete(job + "  ");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stores")
    void nonLatinNamesRoundTripAndStayApart(String db, Supplier<CheckpointStore> stores) {
        // given: Cyrillic, a symbol, and characters outside the Basic Multilingual Plane (4 bytes of UTF-8)
        CheckpointStore store = stores.get();
        String id = UUID.randomUUID().toString();
        String orders = "заказы-✓-" + id + "-📦";
        String ordersUpper = "ЗАКАЗЫ-✓-" + id + "-📦";
        String goods = "товары-✓-" + id + "-📦"; // as long as orders: a lossy charset would make both '?'s
        String mail = "заказы-✓-" + id + "-📬";
        // when
        store.save(orders, 11);
        // then
        assertThat(store.load(ordersUpper)).isEmpty();
        assertThat(store.load(goods)).isEmpty();
        assertThat(store.load(mail)).isEmpty();
        // when
        store.save(ordersUpper, 12);
        store.save(goods, 13);
        store.save(mail, 14);
        // then
        CheckpointStore fresh = stores.get();
        assertThat(fresh.load(orders)).hasValue(11);
        assertThat(fresh.load(ordersUpper)).hasValue(12);
        assertThat(fresh.load(goods)).hasValue(13);
        assertThat(fresh.load(mail)).hasValue(14);
        for (String name : List.of(orders, ordersUpper, goods, mail)) {
            store.delete(name);
            assertThat(fresh.load(name)).isEmpty();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stores")
    void aNameOfMoreThan255CharactersIsRefusedRatherThanCutShort(String db, Supplier<CheckpointStore> stores) {
        // given: names of 255 characters (one of them outside the Basic Multilingual Plane) and of 256
        CheckpointStore store = stores.get();
        String id = UUID.randomUUID().toString();
        String longest = id + "📦".repeat(255 - id.length());
        String tooLong = longest + "x";
        // when
        store.save(longest, 7);
        // then
        assertThat(stores.get().load(longest)).hasValue(7);
        for (ThrowingCallable call : List.<ThrowingCallable>of(
                () -> store.save(tooLong, 8), () -> store.load(tooLong), () -> store.delete(tooLong))) {
            assertThatThrownBy(call)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("name")
                    .hasMessageContaining("at most 255 characters");
        }
        assertThat(stores.get().load(longest)).hasValue(7);
        store.delete(longest);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stores")
    void aNameNoDatabaseKeepsAsItIsIsRefused(String db, Supplier<CheckpointStore> stores) {
        // given: a name with an unpaired surrogate, which every database would store as "?", and one with U+0000,
        // which PostgreSQL refuses
        CheckpointStore store = stores.get();
        String id = UUID.randomUUID().toString();
        String question = id + "?";
        String loneSurrogate = id + Character.toString(0xD800).charAt(0);
        String withNul = id + "\u0000x";
        store.save(question, 3);
        for (String bad : List.of(loneSurrogate, withNul)) {
            for (ThrowingCallable call : List.<ThrowingCallable>of(
                    () -> store.save(bad, 9), () -> store.load(bad), () -> store.delete(bad))) {
                assertThatThrownBy(call)
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageStartingWith("name must be text every database keeps as it is");
            }
        }
        // then the checkpoint the surrogate's name would have shared is untouched
        assertThat(stores.get().load(question)).hasValue(3);
        store.delete(question);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stores")
    void aJobThatFailsResumesAfterItsLastCompletedPrefixAndRewritesOnlyWhatItDidBeyondIt(
            String db, Supplier<CheckpointStore> stores) throws Exception {
        // given: 10,000 numbered records; the first run fails at record 6,000
        int n = 10_000;
        String name = uniqueName();
        ConcurrentHashMap<Long, Integer> written = new ConcurrentHashMap<>(); // an upsert: id -> times written
        AtomicInteger failAt = new AtomicInteger(6_000);
        // when
        assertThatThrownBy(() -> runJob(stores.get(), name, n, written, failAt.get()))
                .isInstanceOf(PipelineFailedException.class);
        long checkpoint = stores.get().load(name).orElseThrow();
        // then: everything below the checkpoint was written, nothing at or after the failing record
        assertThat(checkpoint).isBetween(1L, 6_000L);
        for (long i = 0; i < checkpoint; i++) {
            assertThat(written).containsKey(i);
        }
        assertThat(written.keySet()).allMatch(id -> id < 6_000);
        int before = written.size();
        // when: the job restarts and completes
        runJob(stores.get(), name, n, written, -1);
        // then: every record written; written twice only those the first run had done beyond its checkpoint
        assertThat(stores.get().load(name)).isEqualTo(OptionalLong.of(n));
        assertThat(written).hasSize(n);
        long twice = written.values().stream().filter(c -> c > 1).count();
        assertThat(twice).isEqualTo(before - checkpoint);
    }

    private static void runJob(
            CheckpointStore store, String name, int n, ConcurrentHashMap<Long, Integer> written, int failAt)
            throws Exception {
        long resumeAt = store.load(name).orElse(0);
        PositionTracker tracker = new PositionTracker(resumeAt);
        Source<Long> records = emitter -> {
            for (long i = resumeAt; i < n; i++) {
                emitter.emit(i, tracker.track(i));
            }
        };
        Pipeline.from(records)
                .listener(store.saving(name, tracker), Duration.ofMillis(20))
                .mapConcurrentUnordered(4, x -> x)
                .batch(50, Duration.ofMillis(5))
                .to(Sink.forEach((List<Long> batch) -> {
                    for (Long id : batch) {
                        if (id == failAt) {
                            throw new IllegalStateException("the database went away at " + id);
                        }
                    }
                    for (Long id : batch) {
                        written.merge(id, 1, Integer::sum);
                    }
                }))
                .run();
    }
}

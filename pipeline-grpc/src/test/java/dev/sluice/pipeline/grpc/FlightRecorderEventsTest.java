package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.StageContext;
import dev.sluice.pipeline.grpc.ScriptedItemService.Plan;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.GetItemRequest;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import jdk.jfr.ValueDescriptor;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.MDC;

/**
 * What the gRPC calls put on a flight recording: a {@code dev.sluice.GrpcRetry} event per retried attempt and a
 * {@code dev.sluice.GrpcResume} event per resumed stream, each spanning the backoff before the next call.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FlightRecorderEventsTest {

    private static final String RETRY = "dev.sluice.GrpcRetry";
    private static final String RESUME = "dev.sluice.GrpcResume";
    private static final String GET_ITEM = "sluice.items.v1.ItemService/GetItem";
    private static final String STREAM_ITEMS = "sluice.items.v1.ItemService/StreamItems";

    private final RecordingSleeper sleeper = new RecordingSleeper();
    private final ResilienceOptions options =
            ResilienceOptions.builder().sleeper(sleeper).build();

    @Test
    void eachRetriedAttemptOfAUnaryCallIsRecordedWithItsStatusAndBackoff() throws Exception {
        // given a server that fails the first two calls with UNAVAILABLE
        ScriptedItemService service =
                new ScriptedItemService(call -> call <= 2 ? Plan.failAfter(0, Status.Code.UNAVAILABLE) : Plan.normal());
        try (Recorded recorded = new Recorded(RETRY, RESUME);
                TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(
                            server.channel(), ItemServiceGrpc.getGetItemMethod())
                    .resilience(options)
                    .build();
            long caller = Thread.currentThread().threadId();

            // when a call made with a correlation ID in the MDC succeeds on its third attempt
            Item answer;
            MDC.put(StageContext.MDC_CORRELATION_ID, "jfr-unary");
            try {
                answer = getItem.call(GetItemRequest.newBuilder().setSequence(7).build());
            } finally {
                MDC.remove(StageContext.MDC_CORRELATION_ID);
            }

            // then each of the two retries is recorded, on the calling thread
            assertThat(answer.getSequence()).isEqualTo(7);
            List<RecordedEvent> retries =
                    recorded.awaitCount(RETRY, 2, e -> e.getThread().getJavaThreadId() == caller);
            assertThat(retries).extracting(e -> e.getString("method")).containsOnly(GET_ITEM);
            assertThat(retries).extracting(e -> e.getString("correlationId")).containsOnly("jfr-unary");
            assertThat(retries).extracting(e -> e.getInt("attempt")).containsExactly(1, 2);
            assertThat(retries).extracting(e -> e.getInt("retry")).containsExactly(1, 2);
            assertThat(retries).extracting(e -> e.getInt("maxRetries")).containsOnly(options.maxRetryAttempts());
            assertThat(retries).extracting(e -> e.getString("status")).containsOnly("UNAVAILABLE");
            assertThat(retries)
                    .extracting(e -> e.getString("statusDescription"))
                    .containsOnly("injected fault");
            assertThat(retries)
                    .extracting(e -> e.getDuration("delay"))
                    .containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
            assertThat(ownFields(retries.get(0)))
                    .as("docs/metrics.md")
                    .containsExactlyInAnyOrderElementsOf(documentedFields(RETRY));
            assertThat(recorded.all(RESUME)).isEmpty();
        }
    }

    @Test
    void aStreamThatBreaksBeforeItsFirstItemIsRecordedAsARetry() throws Exception {
        // given a server whose first stream fails before sending anything
        ScriptedItemService service =
                new ScriptedItemService(call -> call == 1 ? Plan.failAfter(0, Status.Code.UNAVAILABLE) : Plan.normal());
        try (Recorded recorded = new Recorded(RETRY, RESUME);
                TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(20))
                    .resilience(options)
                    .resumeWith(Items.RESUME_AFTER_CURSOR)
                    .build();

            // when
            PipelineResult<Long> result = Pipeline.from(source)
                    .pipelineName("jfr-stream-retried")
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30));

            // then one retry, and no resume: nothing had been delivered
            assertThat(result.value()).isEqualTo(20);
            RecordedEvent retry = recorded.awaitCount(RETRY, 1, onPipeline("jfr-stream-retried"))
                    .get(0);
            assertThat(retry.getString("method")).isEqualTo(STREAM_ITEMS);
            assertThat(retry.getString("correlationId")).isEqualTo(result.correlationId());
            assertThat(retry.getInt("attempt")).isEqualTo(1);
            assertThat(retry.getString("status")).isEqualTo("UNAVAILABLE");
            assertThat(recorded.all(RESUME)).isEmpty();
        }
    }

    @Test
    void eachResumeOfABrokenStreamIsRecordedWithItsPosition() throws Exception {
        // given a server whose first two streams each send 37 items and then fail
        ScriptedItemService service = new ScriptedItemService(
                call -> call <= 2 ? Plan.failAfter(37, Status.Code.UNAVAILABLE) : Plan.normal());
        try (Recorded recorded = new Recorded(RETRY, RESUME);
                TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(100))
                    .prefetch(16)
                    .resilience(options)
                    .resumeWith(Items.RESUME_AFTER_CURSOR)
                    .build();

            // when
            PipelineResult<Long> result = Pipeline.from(source)
                    .pipelineName("jfr-stream-resumed")
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30));

            // then two resumes, each after the items delivered so far, and no retry
            assertThat(result.value()).isEqualTo(100);
            List<RecordedEvent> resumes = recorded.awaitCount(RESUME, 2, onPipeline("jfr-stream-resumed"));
            assertThat(resumes).extracting(e -> e.getString("method")).containsOnly(STREAM_ITEMS);
            assertThat(resumes).extracting(e -> e.getString("correlationId")).containsOnly(result.correlationId());
            assertThat(resumes).extracting(e -> e.getInt("attempt")).containsExactly(1, 2);
            assertThat(resumes).extracting(e -> e.getLong("position")).containsExactly(37L, 74L);
            assertThat(resumes).extracting(e -> e.getLong("itemsInCall")).containsOnly(37L);
            assertThat(resumes).extracting(e -> e.getString("status")).containsOnly("UNAVAILABLE");
            assertThat(resumes).extracting(e -> e.getDuration("delay")).containsOnly(Duration.ofMillis(100));
            assertThat(ownFields(resumes.get(0)))
                    .as("docs/metrics.md")
                    .containsExactlyInAnyOrderElementsOf(documentedFields(RESUME));
            assertThat(recorded.all(RETRY)).isEmpty();
        }
    }

    /** Events recorded on a stage thread of the named pipeline (its threads are named after it). */
    private static Predicate<RecordedEvent> onPipeline(String pipeline) {
        return e -> e.getThread() != null
                && e.getThread().getJavaName() != null
                && e.getThread().getJavaName().startsWith(pipeline + "#");
    }

    /** The fields docs/metrics.md lists for {@code event}: the names in backquotes in the last column of its row. */
    private static List<String> documentedFields(String event) throws IOException {
        String row = Files.readAllLines(Path.of("..", "docs", "metrics.md")).stream()
                .filter(line -> line.startsWith("| `" + event + "` |"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("docs/metrics.md has no row for " + event));
        String[] columns = row.split("\\|");
        return Pattern.compile("`([a-zA-Z]+)`")
                .matcher(columns[columns.length - 1])
                .results()
                .map(m -> m.group(1))
                .toList();
    }

    /** The fields of an event of Sluice's own, without those every JFR event has. */
    private static List<String> ownFields(RecordedEvent event) {
        return event.getFields().stream()
                .map(ValueDescriptor::getName)
                .filter(n -> !List.of("startTime", "duration", "eventThread", "stackTrace")
                        .contains(n))
                .toList();
    }

    /** A recording of the named events, streamed into a list as JFR flushes them (about once a second). */
    private static final class Recorded implements AutoCloseable {
        private final RecordingStream stream = new RecordingStream();
        private final List<RecordedEvent> events = new CopyOnWriteArrayList<>();

        Recorded(String... names) {
            for (String name : names) {
                stream.enable(name);
                stream.onEvent(name, events::add);
            }
            stream.setReuse(false); // the events are kept: each must be an object of its own
            stream.startAsync();
        }

        /** Waits until {@code count} events of that name match, and returns them in the order they began. */
        List<RecordedEvent> awaitCount(String name, int count, Predicate<RecordedEvent> which) {
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> all(name).stream().filter(which).count() >= count);
            return all(name).stream()
                    .filter(which)
                    .sorted(Comparator.comparing(RecordedEvent::getStartTime))
                    .toList();
        }

        List<RecordedEvent> all(String name) {
            return events.stream()
                    .filter(e -> e.getEventType().getName().equals(name))
                    .toList();
        }

        @Override
        public void close() {
            stream.close();
        }
    }
}

package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class AuditEventTest {

    @Test
    void streamingMatchesTheDotNetGuidesLogStreamingAuditEvent() {
        // when the .NET guide's example is logged: 500 users in 1.234 s
        Instant start = Instant.parse("2025-03-04T05:06:07.089Z");
        AuditEvent e = AuditEvent.streaming("GetUsersOnlineStream", "corr-1")
                .startedAt(start)
                .duration(Duration.ofMillis(1234))
                .itemCount(500)
                .additionalData(Map.of("UserId", "SystemUser", "OperationType", "BulkProcess"))
                .build();

        // then
        assertThat(e.eventType()).isEqualTo("gRPC:Streaming");
        assertThat(e.methodName()).isEqualTo("GetUsersOnlineStream");
        assertThat(e.correlationId()).isEqualTo("corr-1");
        assertThat(e.startedAt()).isEqualTo(start);
        assertThat(e.endedAt()).isEqualTo(start.plusMillis(1234));
        assertThat(e.durationMs()).isEqualTo(1234);
        assertThat(e.itemCount()).isEqualTo(500);
        assertThat(e.itemsPerSecond()).isEqualTo(405.19); // 500 / 1.234 = 405.186…, rounded to 2 decimals
        assertThat(e.success()).isTrue();
        assertThat(e.outcome()).isEqualTo(AuditEvent.COMPLETED);
        assertThat(e.errorMessage()).isNull();
        assertThat(e.retries()).isZero();
        assertThat(e.resumes()).isZero();
        assertThat(e.additionalData())
                .containsEntry("UserId", "SystemUser")
                .containsEntry("OperationType", "BulkProcess");
        assertThat(e.running()).isFalse();
    }

    @Test
    void theBuilderMakesAFinishedEventFromAnEndAsFromADuration() {
        // given a builder with every value named, and an end instead of a duration
        UUID id = UUID.randomUUID();
        Instant start = Instant.parse("2025-03-04T05:06:07Z");
        AuditEvent e = AuditEvent.builder("batch:Export", "users-export", "corr-2")
                .eventId(id)
                .startedAt(start)
                .endedAt(start.plusSeconds(4))
                .itemCount(10)
                .success(false)
                .outcome("TIMED_OUT")
                .errorMessage("deadline passed")
                .retries(2)
                .resumes(1)
                .build();

        // then every value is the one named, and the duration and rate follow from the times
        assertThat(e)
                .isEqualTo(new AuditEvent(
                        id,
                        "batch:Export",
                        "users-export",
                        "corr-2",
                        start,
                        start.plusSeconds(4),
                        4000,
                        10,
                        2.5,
                        false,
                        "TIMED_OUT",
                        "deadline passed",
                        2,
                        1,
                        Map.of()));
    }

    @Test
    void theBuilderWithoutAnEndMakesARunningEvent() {
        AuditEvent e = AuditEvent.builder(AuditEvent.PIPELINE_RUN, "nightly", "corr-3")
                .startedAt(Events.BASE)
                .itemCount(5)
                .build();

        assertThat(e.running()).isTrue();
        assertThat(e.outcome()).isEqualTo(AuditEvent.RUNNING);
        assertThat(e.success()).isFalse();
        assertThat(e.itemCount()).isEqualTo(5);
    }

    @Test
    void theBuilderRefusesAnEventWithoutAStartOrEndingBeforeItStarted() {
        assertThatThrownBy(() -> AuditEvent.streaming("m", "c").itemCount(1).build())
                .isInstanceOf(NullPointerException.class)
                .hasMessage("startedAt must not be null");
        assertThatThrownBy(() -> AuditEvent.streaming("m", "c")
                        .startedAt(Events.BASE)
                        .endedAt(Events.BASE.minusMillis(1))
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("endedAt must not be before startedAt");
    }

    @Test
    void aFailedStreamIsAFailedEventWithItsMessage() {
        AuditEvent e = AuditEvent.streaming("m", "c")
                .startedAt(Instant.EPOCH)
                .duration(Duration.ZERO)
                .itemCount(3)
                .success(false)
                .errorMessage("boom")
                .build();

        assertThat(e.outcome()).isEqualTo(AuditEvent.FAILED);
        assertThat(e.errorMessage()).isEqualTo("boom");
        assertThat(e.itemsPerSecond()).as("no rate over a zero duration").isZero();
        assertThat(e.additionalData()).isEmpty();
    }

    @Test
    void itemsPerSecondIsRoundedHalfUpToTwoDecimals() {
        assertThat(withRate(1.005).itemsPerSecond()).isEqualTo(1.01);
        assertThat(withRate(2.0 / 3).itemsPerSecond()).isEqualTo(0.67);
        assertThat(withRate(1e15 + 0.126).itemsPerSecond()).isEqualTo(1e15 + 0.13);
    }

    @Test
    void timesAreKeptToTheMillisecond() {
        Instant precise = Instant.parse("2025-01-01T00:00:00.123456789Z");
        AuditEvent e = AuditEvent.started("t", "m", "c", precise, null);

        assertThat(e.startedAt()).isEqualTo(Instant.parse("2025-01-01T00:00:00.123Z"));
    }

    @Test
    void completedKeepsTheIdentityAndComputesTheRest() {
        AuditEvent started = AuditEvent.started(AuditEvent.PIPELINE_RUN, "export", "c", Events.BASE, Map.of("k", 1));
        AuditEvent done = started.completed(Events.BASE.plusSeconds(4), 10, false, "disk full");

        assertThat(done.eventId()).isEqualTo(started.eventId());
        assertThat(done.additionalData()).isEqualTo(started.additionalData());
        assertThat(done.durationMs()).isEqualTo(4000);
        assertThat(done.itemsPerSecond()).isEqualTo(2.5);
        assertThat(done.outcome()).isEqualTo(AuditEvent.FAILED);
        assertThat(done.errorMessage()).isEqualTo("disk full");
        assertThat(started.running()).isTrue();
        assertThat(done.running()).isFalse();
    }

    @Test
    void jsonRoundTripsAndHoldsExactlyTheRecordsFields() throws Exception {
        AuditEvent e = Events.everyFieldSet();

        String json = e.toJson();

        assertThat(AuditEvent.fromJson(json)).isEqualTo(e);
        assertThat(json).doesNotContain("\n");
        JsonNode tree = new ObjectMapper().readTree(json);
        List<String> names = new ArrayList<>();
        tree.fieldNames().forEachRemaining(names::add);
        assertThat(names)
                .containsExactlyInAnyOrder(
                        "eventId",
                        "eventType",
                        "methodName",
                        "correlationId",
                        "startedAt",
                        "endedAt",
                        "durationMs",
                        "itemCount",
                        "itemsPerSecond",
                        "success",
                        "outcome",
                        "errorMessage",
                        "retries",
                        "resumes",
                        "additionalData");
        assertThat(tree.get("startedAt").asText()).isEqualTo("2025-01-02T03:04:05.678Z");
    }

    @Test
    void additionalDataIsADeepImmutableCopy() {
        Map<String, Object> inner = new HashMap<>();
        inner.put("x", 1);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("inner", inner);
        data.put("at", Instant.parse("2025-01-01T00:00:00Z"));
        data.put("record", new Point(1, 2));

        AuditEvent e = AuditEvent.streaming("m", "c")
                .startedAt(Instant.EPOCH)
                .duration(Duration.ofSeconds(1))
                .itemCount(1)
                .additionalData(data)
                .build();
        inner.put("x", 2);
        data.put("later", true);

        assertThat(e.additionalData()).containsOnlyKeys("inner", "at", "record");
        assertThat(e.additionalData().get("inner")).isEqualTo(Map.of("x", 1));
        assertThat(e.additionalData().get("at")).isEqualTo("2025-01-01T00:00:00Z");
        assertThat(e.additionalData().get("record")).isEqualTo(Map.of("x", 1, "y", 2));
        assertThatThrownBy(() -> e.additionalData().put("k", "v")).isInstanceOf(UnsupportedOperationException.class);
        @SuppressWarnings("unchecked")
        Map<String, Object> copiedInner =
                (Map<String, Object>) e.additionalData().get("inner");
        assertThatThrownBy(() -> copiedInner.put("k", "v")).isInstanceOf(UnsupportedOperationException.class);
    }

    record Point(int x, int y) {}

    @Test
    void textThatNoStoreCanHoldIsReplaced() {
        AuditEvent e = AuditEvent.streaming("m\u0000x", "c")
                .startedAt(Instant.EPOCH)
                .duration(Duration.ofSeconds(1))
                .itemCount(1)
                .success(false)
                .errorMessage("lone \uD800 surrogate")
                .additionalData(Map.of("k\u0000", "v\u0000\uDC00"))
                .build();

        assertThat(e.methodName()).isEqualTo("m\uFFFDx");
        assertThat(e.errorMessage()).isEqualTo("lone \uFFFD surrogate");
        assertThat(e.additionalData()).containsEntry("k\uFFFD", "v\uFFFD\uFFFD");
        assertThat(AuditEvent.fromJson(e.toJson())).isEqualTo(e);
    }

    @Test
    void aLongErrorMessageIsCutAndMarked() {
        AuditEvent e = AuditEvent.streaming("m", "c")
                .startedAt(Instant.EPOCH)
                .duration(Duration.ofSeconds(1))
                .itemCount(1)
                .success(false)
                .errorMessage("e".repeat(20_000))
                .build();

        assertThat(e.errorMessage())
                .hasSize(AuditEvent.MAX_ERROR_MESSAGE_LENGTH)
                .endsWith("[truncated from 20000 characters]");
    }

    @Test
    void aOneMegabyteStringFitsAndTwoAreRefusedWithTheSizeAndTheLimit() {
        AuditEvent fits = AuditEvent.streaming("m", "c")
                .startedAt(Instant.EPOCH)
                .duration(Duration.ofSeconds(1))
                .itemCount(1)
                .additionalData(Map.of("payload", "x".repeat(1_000_000)))
                .build();
        assertThat((String) fits.additionalData().get("payload")).hasSize(1_000_000);

        assertThatThrownBy(() -> AuditEvent.streaming("m", "c")
                        .startedAt(Instant.EPOCH)
                        .duration(Duration.ofSeconds(1))
                        .itemCount(1)
                        .additionalData(Map.of("payload", "x".repeat(2_000_000)))
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("additionalData is 2000014 characters of JSON")
                .hasMessageContaining("the limit is 1048576");
    }

    @Test
    void dataThatCannotBeJsonIsRefusedClearly() {
        Map<String, Object> cyclic = new HashMap<>();
        cyclic.put("self", cyclic);

        assertThatThrownBy(() -> AuditEvent.started("t", "m", "c", Instant.EPOCH, cyclic))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("additionalData cannot be written as JSON");
    }

    @Test
    void dataNestedDeeperThanEveryStoreCanParseIsRefused() {
        Map<String, Object> deep = new HashMap<>();
        Map<String, Object> level = deep;
        for (int i = 1; i < AuditEvent.MAX_ADDITIONAL_DATA_DEPTH; i++) {
            Map<String, Object> next = new HashMap<>();
            level.put("k", next);
            level = next;
        }
        assertThat(AuditEvent.started("t", "m", "c", Instant.EPOCH, deep).additionalData())
                .containsKey("k");

        level.put("k", List.of("one level too many"));

        assertThatThrownBy(() -> AuditEvent.started("t", "m", "c", Instant.EPOCH, deep))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("additionalData nests maps and lists more than 64 deep");
    }

    @Test
    void badValuesAreRefusedNamingTheArgumentTheValueAndTheRule() {
        assertThatThrownBy(() -> AuditEvent.started("t", " ", "c", Instant.EPOCH, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("methodName must not be blank, got ' '");
        assertThatThrownBy(() -> AuditEvent.started("t", "m", null, Instant.EPOCH, null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("correlationId must not be null");
        assertThatThrownBy(() -> AuditEvent.started("t", "m", "c".repeat(513), Instant.EPOCH, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("correlationId must be at most 512 bytes of UTF-8");
        assertThatThrownBy(() -> AuditEvent.streaming("m", "c")
                        .startedAt(Instant.EPOCH)
                        .duration(Duration.ZERO)
                        .itemCount(-1)
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("itemCount must not be negative, got -1");
        assertThatThrownBy(() -> AuditEvent.streaming("m", "c")
                        .startedAt(Instant.EPOCH)
                        .duration(Duration.ofSeconds(-1))
                        .itemCount(1)
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("duration must not be negative, got PT-1S");
        assertThatThrownBy(() -> withRate(Double.NaN))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("itemsPerSecond must be a finite number not below 0, got NaN");
        assertThatThrownBy(() -> new AuditEvent(
                        UUID.randomUUID(),
                        "t",
                        "m",
                        "c",
                        Instant.EPOCH,
                        null,
                        0,
                        0,
                        0,
                        true,
                        "COMPLETED",
                        null,
                        0,
                        0,
                        null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("outcome must be RUNNING for an event without endedAt, got 'COMPLETED'");
        assertThatThrownBy(() -> new AuditEvent(
                        UUID.randomUUID(),
                        "t",
                        "m",
                        "c",
                        Instant.EPOCH,
                        Instant.EPOCH,
                        0,
                        0,
                        0,
                        true,
                        AuditEvent.RUNNING,
                        null,
                        0,
                        0,
                        null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("outcome must not be RUNNING for an event with an endedAt");
        assertThatThrownBy(() -> new AuditEvent(
                        UUID.randomUUID(),
                        "t",
                        "m",
                        "c",
                        Instant.EPOCH.plusSeconds(1),
                        Instant.EPOCH,
                        0,
                        0,
                        0,
                        true,
                        "COMPLETED",
                        null,
                        0,
                        0,
                        null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("endedAt must not be before startedAt");
    }

    @Test
    void namesAreLimitedToTheBytesEveryIndexHolds() {
        // given names of exactly 512 bytes of UTF-8: ASCII, three-byte and four-byte characters
        String ascii = "a".repeat(512);
        String euros = "€".repeat(170) + "ab"; // 510 + 2 bytes
        String rockets = "🚀".repeat(128); // 4 bytes each, two Java chars each

        // then they make an event
        AuditEvent e = AuditEvent.started(euros, ascii, rockets, Instant.EPOCH, null);
        assertThat(e.correlationId()).isEqualTo(rockets);
        assertThat(AuditEvent.fromJson(e.toJson())).isEqualTo(e);

        // and one byte more does not, whatever the characters
        assertThatThrownBy(() -> AuditEvent.started("t", "a".repeat(513), "c", Instant.EPOCH, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("methodName must be at most 512 bytes of UTF-8")
                .hasMessageContaining("got 513 bytes");
        assertThatThrownBy(() -> AuditEvent.started(euros + "c", "m", "c", Instant.EPOCH, null))
                .hasMessageStartingWith("eventType must be at most 512 bytes of UTF-8");
    }

    @Test
    void aCorrelationIdTooLargeForAnIndexIsRefusedNamingTheFieldAPreviewAndTheRule() {
        // given the value that broke a PostgreSQL index: 1,000 non-ASCII characters (3,000 bytes)
        String wide = "漢".repeat(1000);

        assertThatThrownBy(() -> AuditEvent.streaming("m", wide)
                        .startedAt(Instant.EPOCH)
                        .duration(Duration.ofSeconds(1))
                        .itemCount(1)
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("correlationId must be at most 512 bytes of UTF-8 (AuditEvent.MAX_NAME_BYTES, "
                        + "what every audit store can index), got 3000 bytes: '漢漢漢")
                .hasMessageContaining("[truncated from 1000 characters]")
                .satisfies(t -> assertThat(t.getMessage()).hasSizeLessThan(300));
    }

    @Test
    void aValueThatCouldForgeALogLineIsShownEscapedInTheError() {
        String hostile = "x\nFAKE LOG LINE " + "y".repeat(600);

        assertThatThrownBy(() -> AuditEvent.started("t", "m", hostile, Instant.EPOCH, null))
                .hasMessageContaining("x\\nFAKE LOG LINE")
                .satisfies(t -> assertThat(t.getMessage()).doesNotContain("\n"));
    }

    @Test
    void timesAreLimitedToWhatEveryStoreHolds() {
        // given the first and last instants every store holds
        AuditEvent edges = new AuditEvent(
                UUID.randomUUID(),
                "t",
                "m",
                "c",
                AuditEvent.EARLIEST_TIME,
                AuditEvent.LATEST_TIME,
                0,
                0,
                0,
                true,
                AuditEvent.COMPLETED,
                null,
                0,
                0,
                null);
        assertThat(edges.startedAt()).isEqualTo(Instant.parse("1970-01-01T00:00:00Z"));
        assertThat(edges.endedAt()).isEqualTo(Instant.parse("9999-12-31T23:59:59.999Z"));

        // then a start in the year 300000 (beyond PostgreSQL's timestamptz), or before 1970, is refused
        Instant year300000 = LocalDateTime.of(300_000, 1, 1, 0, 0).toInstant(ZoneOffset.UTC);
        assertThatThrownBy(() -> AuditEvent.started("t", "m", "c", year300000, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("startedAt must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z "
                        + "(AuditEvent.EARLIEST_TIME and LATEST_TIME, what every audit store can hold), "
                        + "got +300000-01-01T00:00:00Z");
        assertThatThrownBy(() -> AuditEvent.started("t", "m", "c", Instant.EPOCH.minusMillis(1), null))
                .hasMessageStartingWith("startedAt must be between")
                .hasMessageEndingWith("got 1969-12-31T23:59:59.999Z");
        assertThatThrownBy(() -> AuditEvent.started("t", "m", "c", Instant.EPOCH, null)
                        .completed(Instant.parse("+10000-01-01T00:00:00Z"), 1, true, null))
                .hasMessageStartingWith("endedAt must be between");
        assertThatThrownBy(() -> AuditEvent.streaming("m", "c")
                        .startedAt(Instant.parse("9999-12-31T00:00:00Z"))
                        .duration(Duration.ofDays(2))
                        .itemCount(1)
                        .build())
                .hasMessageStartingWith("duration must end by 9999-12-31T23:59:59.999Z");
        assertThatThrownBy(() -> AuditEvent.streaming("m", "c")
                        .startedAt(Instant.EPOCH)
                        .duration(Duration.ofSeconds(Long.MAX_VALUE))
                        .itemCount(1)
                        .build())
                .hasMessageStartingWith("duration must end by");
    }

    @Test
    void aSpilledLineThatBreaksTheseRulesIsNotAnEvent() {
        String json = Events.finished("old", 1).toJson().replace("\"old-1\"", "\"" + "é".repeat(300) + "\"");

        assertThatThrownBy(() -> AuditEvent.fromJson(json))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("correlationId must be at most 512 bytes");
    }

    @Test
    void jsonThatIsNotAnEventIsRefusedClearly() {
        assertThatThrownBy(() -> AuditEvent.fromJson("{\"eventId\":\"4b7c"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("not an audit event in JSON");
        assertThatThrownBy(() ->
                        AuditEvent.fromJson(Events.finished("x", 1).toJson().replace("\"method-1\"", "\" \"")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("methodName must not be blank");
    }

    private static AuditEvent withRate(double rate) {
        return new AuditEvent(
                UUID.randomUUID(),
                "t",
                "m",
                "c",
                Instant.EPOCH,
                Instant.EPOCH,
                0,
                0,
                rate,
                true,
                "COMPLETED",
                null,
                0,
                0,
                null);
    }
}

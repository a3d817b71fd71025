package dev.sluice.pipeline.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Scale-out through a consumer group: copies of a job in JVMs of their own share a topic of 12 partitions; one is
 * killed with {@code kill -9} mid-run and the others take its partitions; a fourth joins and gets partitions. Run with
 * the classic protocol's cooperative-sticky assignor and with Kafka 4's consumer group protocol.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ScaleOutTest {

    private static final int PARTITIONS = 12;
    private static final int KEYS = 60;
    private static final Duration PATIENCE = Topics.PATIENCE;
    /**
     * The most records one killed member can have processed without their offsets committed: what its pipeline holds
     * (hand-over 100 + one poll 50, the source link 256, the ordered map's window and groups 8 + 128, the sink's link
     * 16 and group 64) plus what it finishes in one commit interval (200 ms) at the members' pace.
     */
    private static final int IN_FLIGHT_BOUND = 100 + 50 + 256 + 8 + 128 + 16 + 64 + 200;

    private final KafkaBroker broker = KafkaBroker.shared();

    @ParameterizedTest
    @ValueSource(strings = {"consumer", "classic"})
    void membersShareTheTopicAKilledOnesPartitionsMoveAndANewOneGetsSome(String protocol, @TempDir Path dir)
            throws Exception {
        // given
        String topic = Topics.unique("scale-" + protocol);
        String group = topic + "-group";
        broker.createTopic(topic, PARTITIONS);
        int half = 3_000;
        Topics.write(broker, topic, Topics.numbers(half), KEYS);
        List<ChildJvm> members = new ArrayList<>();
        List<Path> outputs = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                outputs.add(dir.resolve("member-" + i));
                members.add(member(topic, group, outputs.get(i), protocol));
            }

            // when one is killed mid-run
            await().atMost(PATIENCE).until(() -> lines(outputs).size() >= half / 3);
            await().atMost(PATIENCE).until(() -> !lines(outputs.subList(1, 2)).isEmpty());
            members.get(1).kill();
            // and a fourth joins, and more records come
            outputs.add(dir.resolve("member-3"));
            members.add(member(topic, group, outputs.get(3), protocol));
            await("the killed member is gone and the fourth holds partitions")
                    .atMost(PATIENCE)
                    .until(() -> membersHoldingPartitions(group).equals(Set.of("member-0", "member-2", "member-3")));
            List<String> second = new ArrayList<>();
            for (int i = half; i < 2 * half; i++) {
                second.add(Integer.toString(i));
            }
            Topics.write(broker, topic, second, KEYS);

            // then every record is processed
            await().atMost(PATIENCE).until(() -> values(lines(outputs)).size() == 2 * half);
            await("everything committed").atMost(PATIENCE).until(() -> committedEverything(topic, group));
        } finally {
            for (ChildJvm member : members) {
                member.stop(Duration.ofSeconds(20));
            }
        }
        List<String[]> all = lines(outputs);
        assertThat(values(all)).hasSize(2 * half);
        assertThat(lines(outputs.subList(3, 4)))
                .as("the fourth member got partitions")
                .isNotEmpty();
        int duplicates = all.size() - values(all).size();
        System.out.println(protocol + ": " + duplicates + " records processed twice (bound " + IN_FLIGHT_BOUND + ")");
        assertThat(duplicates).isLessThanOrEqualTo(IN_FLIGHT_BOUND);
        for (Path output : outputs) {
            assertOrderPerKey(lines(List.of(output)));
        }
    }

    /** Within one member, each key's values come in increasing order (the topic holds them so per partition). */
    private static void assertOrderPerKey(List<String[]> lines) {
        Map<String, Integer> last = new HashMap<>();
        for (String[] line : lines) {
            int value = Integer.parseInt(line[3]);
            Integer before = last.put(line[2], value);
            assertThat(before == null || before < value)
                    .as("key %s: %s after %s", line[2], value, before)
                    .isTrue();
        }
    }

    /** The client IDs (a member's output file name) of the group's members, if each of them holds partitions. */
    private Set<String> membersHoldingPartitions(String group) throws Exception {
        ConsumerGroupDescription description = broker.admin()
                .describeConsumerGroups(List.of(group))
                .all()
                .get()
                .get(group);
        Set<String> members = new HashSet<>();
        for (MemberDescription member : description.members()) {
            if (member.assignment().topicPartitions().isEmpty()) {
                return Set.of();
            }
            members.add(member.clientId());
        }
        return members;
    }

    private boolean committedEverything(String topic, String group) throws Exception {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
        Map<TopicPartition, Long> committed = Topics.committed(broker, group);
        return broker.admin().listOffsets(latest).all().get().entrySet().stream()
                .allMatch(e ->
                        committed.getOrDefault(e.getKey(), -1L) == e.getValue().offset());
    }

    private ChildJvm member(String topic, String group, Path output, String protocol) throws IOException {
        return ChildJvm.builder(GroupMemberMain.class)
                .jvmArgs("-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
                .args(broker.bootstrapServers(), topic, group, output.toString(), protocol, "10")
                .output(output.resolveSibling(output.getFileName() + ".log"))
                .start();
    }

    private static List<String[]> lines(List<Path> outputs) throws IOException {
        List<String[]> lines = new ArrayList<>();
        for (Path output : outputs) {
            try {
                for (String line : Files.readAllLines(output, StandardCharsets.UTF_8)) {
                    String[] fields = line.split(" ");
                    if (fields.length == 4) {
                        lines.add(fields);
                    }
                }
            } catch (NoSuchFileException notYet) {
                // the member has processed nothing yet
            }
        }
        return lines;
    }

    private static Set<String> values(List<String[]> lines) {
        Set<String> values = new HashSet<>();
        lines.forEach(l -> values.add(l[3]));
        return values;
    }
}

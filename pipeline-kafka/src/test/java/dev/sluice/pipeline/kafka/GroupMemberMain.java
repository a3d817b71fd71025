package dev.sluice.pipeline.kafka;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.Sink;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * One copy of a consumer job, run in a JVM of its own by the scale-out tests: reads a topic with a {@link KafkaSource}
 * in a group, processes each record with a random delay through the ordered {@code mapConcurrent} (which keeps each
 * partition's order, so each key's), and either appends
 * {@code <partition> <offset> <key> <value>} to its output file (each line written before the record is acknowledged,
 * with no buffer a kill could lose) or writes the record to an output topic in transactions. A SIGTERM stops it
 * gracefully.
 *
 * <p>Arguments: {@code <bootstrap> <topic> <group> <output file> <protocol: classic|consumer> <max delay ms>
 * [<output topic> <transactional id>]}.
 */
final class GroupMemberMain {

    private GroupMemberMain() {}

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String topic = args[1];
        String group = args[2];
        Path output = Path.of(args[3]);
        String protocol = args[4];
        int maxDelay = Integer.parseInt(args[5]);
        KafkaSource.Builder<String, String> source = KafkaSource.builder(
                        new StringDeserializer(), new StringDeserializer())
                .bootstrapServers(bootstrap)
                .groupId(group)
                .topics(topic)
                .maxBuffered(100)
                .commitInterval(Duration.ofMillis(200))
                .drainTimeout(Duration.ofSeconds(5))
                .property(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 50)
                .property(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol)
                .property(ConsumerConfig.CLIENT_ID_CONFIG, output.getFileName().toString());
        if (protocol.equals("classic")) {
            source.property(
                            ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                            CooperativeStickyAssignor.class.getName())
                    .property(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6_000)
                    .property(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000);
        }
        PipelineHandle<Long> run;
        if (args.length > 6) {
            KafkaSink<String, String> sink = KafkaSink.builder(new StringSerializer(), new StringSerializer())
                    .bootstrapServers(bootstrap)
                    .transactionalId(args[7])
                    .property("transaction.timeout.ms", 10_000)
                    .maxInFlight(50)
                    .build();
            run = Pipeline.from(source.exactlyOnce(sink).build())
                    .pipelineName("member")
                    .mapConcurrent(4, r -> delayed(r, maxDelay))
                    .map(r -> new ProducerRecord<>(args[6], r.key(), r.value()))
                    .to(sink.sink())
                    .start();
        } else {
            FileChannel out = FileChannel.open(
                    output, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            run = Pipeline.from(source.build())
                    .pipelineName("member")
                    .mapConcurrent(4, r -> delayed(r, maxDelay))
                    .buffer(16)
                    .to(Sink.forEach((ConsumerRecord<String, String> r) -> write(out, r)))
                    .start();
        }
        PipelineHandle<Long> started = run;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            started.stop(Duration.ofSeconds(10));
            try {
                started.await(Duration.ofSeconds(30));
            } catch (Exception e) {
                System.out.println("ended with " + e);
            }
        }));
        System.out.println("started");
        started.await();
    }

    private static ConsumerRecord<String, String> delayed(ConsumerRecord<String, String> r, int maxDelay)
            throws InterruptedException {
        if (maxDelay > 0) {
            Thread.sleep(ThreadLocalRandom.current().nextInt(maxDelay + 1));
        }
        return r;
    }

    private static void write(FileChannel out, ConsumerRecord<String, String> r) throws IOException {
        ByteBuffer line = ByteBuffer.wrap((r.partition() + " " + r.offset() + " " + r.key() + " " + r.value() + "\n")
                .getBytes(StandardCharsets.UTF_8));
        while (line.hasRemaining()) {
            out.write(line);
        }
    }
}

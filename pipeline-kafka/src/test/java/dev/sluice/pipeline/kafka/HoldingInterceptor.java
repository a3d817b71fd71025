package dev.sluice.pipeline.kafka;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * A consumer interceptor ({@code interceptor.classes}) that can hold a consumer's poll: while a group's hold is on,
 * the first poll of its members that returns records waits, inside the poll, until the hold is released. So a test
 * can keep a member from polling for longer than {@code max.poll.interval.ms}. Holds are per group ID.
 */
public final class HoldingInterceptor implements ConsumerInterceptor<byte[], byte[]> {

    private static final Map<String, Hold> HOLDS = new ConcurrentHashMap<>();

    private String group;

    /** Kafka makes one per consumer, from the class name. */
    public HoldingInterceptor() {}

    /** A hold of one group's polls. */
    static final class Hold implements AutoCloseable {
        private final String group;
        private final CountDownLatch holding = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);

        private Hold(String group) {
            this.group = group;
        }

        /** Whether a poll is being held. */
        boolean holding() {
            return holding.getCount() == 0;
        }

        /** Lets the held poll (and every later one) return. */
        @Override
        public void close() {
            HOLDS.remove(group, this);
            released.countDown();
        }

        private void hold() {
            holding.countDown();
            try {
                released.await(Topics.PATIENCE.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Holds the next poll of a member of {@code group} that returns records, until the hold is closed. */
    static Hold hold(String group) {
        Hold hold = new Hold(group);
        HOLDS.put(group, hold);
        return hold;
    }

    @Override
    public void configure(Map<String, ?> configs) {
        group = (String) configs.get(ConsumerConfig.GROUP_ID_CONFIG);
    }

    @Override
    public ConsumerRecords<byte[], byte[]> onConsume(ConsumerRecords<byte[], byte[]> records) {
        Hold hold = group == null ? null : HOLDS.get(group);
        if (hold != null && !records.isEmpty()) {
            hold.hold();
        }
        return records;
    }

    @Override
    public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {}

    @Override
    public void close() {}
}

package dev.sluice.pipeline.grpc;

import com.google.protobuf.ByteString;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import io.grpc.MethodDescriptor;
import java.util.List;

/** Items, requests and checks shared by the tests. */
final class Items {
    static final MethodDescriptor<StreamItemsRequest, Item> STREAM = ItemServiceGrpc.getStreamItemsMethod();

    /** Resumes after the last delivered item's cursor. */
    static final ResumeStrategy<StreamItemsRequest, Item> RESUME_AFTER_CURSOR = (original, last) ->
            original.toBuilder().setResumeAfter(last.getCursor()).build();

    private Items() {}

    static StreamItemsRequest request(long count) {
        return StreamItemsRequest.newBuilder().setCount(count).build();
    }

    static StreamItemsRequest request(long count, int payloadSize) {
        return StreamItemsRequest.newBuilder()
                .setCount(count)
                .setPayloadSize(payloadSize)
                .build();
    }

    static Item item(long sequence, ByteString payload) {
        return Item.newBuilder()
                .setSequence(sequence)
                .setCursor(Long.toString(sequence))
                .setPayload(payload)
                .build();
    }

    /** The sequence number after which a request starts. */
    static long startAfter(StreamItemsRequest request) {
        return request.getResumeAfter().isEmpty() ? 0 : Long.parseLong(request.getResumeAfter());
    }

    static ByteString payload(int size) {
        return ByteString.copyFrom(new byte[size]);
    }

    /** The index of the first item out of sequence 1..n, or -1 if {@code items} is exactly 1..n. */
    static long firstOutOfSequence(List<Long> sequences, long n) {
        if (sequences.size() != n) {
            for (int i = 0; i < sequences.size(); i++) {
                if (sequences.get(i) != i + 1) {
                    return i;
                }
            }
            return sequences.size();
        }
        for (int i = 0; i < n; i++) {
            if (sequences.get(i) != i + 1) {
                return i;
            }
        }
        return -1;
    }
}

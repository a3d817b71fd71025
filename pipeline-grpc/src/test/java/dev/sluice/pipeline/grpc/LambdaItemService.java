package dev.sluice.pipeline.grpc;

import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import io.grpc.stub.StreamObserver;
import java.util.function.BiConsumer;

/** An item service whose streaming handler is given by the test. */
final class LambdaItemService extends ItemServiceGrpc.ItemServiceImplBase {
    private final BiConsumer<StreamItemsRequest, StreamObserver<Item>> handler;

    LambdaItemService(BiConsumer<StreamItemsRequest, StreamObserver<Item>> handler) {
        this.handler = handler;
    }

    @Override
    public void streamItems(StreamItemsRequest request, StreamObserver<Item> responses) {
        handler.accept(request, responses);
    }
}

package dev.sluice.pipeline.grpc;

import com.google.protobuf.ByteString;
import dev.sluice.pipeline.proto.items.GetItemRequest;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An item service with scripted faults, for the resilience tests: for call number c (1-based) the script says how
 * many items to send and how the call then ends. It writes directly to the observer (no readiness: a call sends
 * at most a few items before its fault), so "K items then UNAVAILABLE" is exact.
 */
final class ScriptedItemService extends ItemServiceGrpc.ItemServiceImplBase {

    /** How a call ends after its items: normally at the end of the stream, with a status, or not at all. */
    sealed interface Ending permits Complete, Fail, Stall {}

    record Complete() implements Ending {}

    record Fail(Status status) implements Ending {}

    /** Sends nothing more and never ends the call: a hung server. */
    record Stall() implements Ending {}

    /** What call {@code c} does: send up to {@code items} items (-1: all the rest), then end. */
    record Plan(int items, Ending ending) {
        static Plan normal() {
            return new Plan(-1, new Complete());
        }

        static Plan failAfter(int items, Status.Code code) {
            return new Plan(items, new Fail(Status.fromCode(code).withDescription("injected fault")));
        }

        static Plan stallAfter(int items) {
            return new Plan(items, new Stall());
        }
    }

    @FunctionalInterface
    interface Script {
        Plan plan(int call);
    }

    private final Script script;
    final AtomicInteger calls = new AtomicInteger();
    final AtomicInteger cancelled = new AtomicInteger();
    final List<StreamItemsRequest> requests = new CopyOnWriteArrayList<>();
    final List<Long> callStartNanos = new CopyOnWriteArrayList<>();

    ScriptedItemService(Script script) {
        this.script = script;
    }

    @Override
    public void streamItems(StreamItemsRequest request, StreamObserver<Item> responses) {
        int call = calls.incrementAndGet();
        callStartNanos.add(System.nanoTime());
        requests.add(request);
        ServerCallStreamObserver<Item> observer = (ServerCallStreamObserver<Item>) responses;
        observer.setOnCancelHandler(cancelled::incrementAndGet);
        Plan plan = script.plan(call);
        ByteString payload = Items.payload(request.getPayloadSize());
        long next = Items.startAfter(request) + 1;
        long count = request.getCount();
        for (int sent = 0; (plan.items() < 0 || sent < plan.items()) && next <= count; sent++, next++) {
            observer.onNext(Items.item(next, payload));
        }
        boolean atEnd = next > count;
        switch (plan.ending()) {
            case Complete c -> observer.onCompleted();
            case Fail f -> {
                if (atEnd && plan.items() < 0) {
                    observer.onCompleted();
                } else {
                    observer.onError(f.status().asRuntimeException());
                }
            }
            case Stall s -> {} // leaves the call open until the client cancels it
        }
    }

    @Override
    public void getItem(GetItemRequest request, StreamObserver<Item> responses) {
        int call = calls.incrementAndGet();
        callStartNanos.add(System.nanoTime());
        ServerCallStreamObserver<Item> observer = (ServerCallStreamObserver<Item>) responses;
        observer.setOnCancelHandler(cancelled::incrementAndGet);
        Plan plan = script.plan(call);
        switch (plan.ending()) {
            case Fail f -> observer.onError(f.status().asRuntimeException());
            case Stall s -> {}
            case Complete c -> {
                observer.onNext(Items.item(request.getSequence(), Items.payload(request.getPayloadSize())));
                observer.onCompleted();
            }
        }
    }
}

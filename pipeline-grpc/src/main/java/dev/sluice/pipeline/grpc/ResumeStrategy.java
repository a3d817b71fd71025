package dev.sluice.pipeline.grpc;

/**
 * How a server stream continues after a failure past its first item: from the original request and the last item
 * delivered downstream, the request for a new call that starts right after that item.
 *
 * <pre>{@code
 * ResumeStrategy<StreamItemsRequest, Item> afterCursor =
 *     (original, last) -> original.toBuilder().setResumeAfter(last.getCursor()).build();
 * }</pre>
 *
 * <p>The server must honour it exactly: the new call's first item is the one after {@code lastDelivered}. Then
 * the pipeline sees every item once, with no gap and no duplicate, across any number of resumes.
 *
 * <p>Called on the source's stage thread, once per resume. If it throws, the source fails with that exception.
 *
 * @param <Req> the request type
 * @param <Resp> the item (response message) type
 * @since 0.1
 */
@FunctionalInterface
public interface ResumeStrategy<Req, Resp> {

    /**
     * The request for the next call.
     *
     * @param original the request the source was built with (never a resumed one)
     * @param lastDelivered the last item the source passed downstream
     * @return the request that continues after {@code lastDelivered}; must not be null
     */
    Req nextRequest(Req original, Resp lastDelivered);
}

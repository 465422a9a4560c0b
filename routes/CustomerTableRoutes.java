package dev.streametl.routes;

import java.util.concurrent.ExecutorService;

import co.elastic.clients.elasticsearch.core.SearchRequest;
import dev.streametl.pipeline.AppliedOffsets;
import dev.streametl.pipeline.ChangeEvent;
import dev.streametl.pipeline.Customer;
import dev.streametl.pipeline.CustomerBacklog;
import dev.streametl.pipeline.CustomerRewrite;
import dev.streametl.pipeline.CustomerTableCatchUp;
import dev.streametl.pipeline.CustomerUpdates;
import dev.streametl.pipeline.RecordFormat;
import org.apache.camel.Exchange;
import org.apache.camel.builder.AggregationStrategies;
import org.apache.camel.component.caffeine.CaffeineConstants;

/**
 * Stage 2, customer table: the latest row of every customer, by id, in a Caffeine cache that the order enrichment
 * looks up. Rebuilt from the customers change topic, read from the beginning, at every start: the order enrichment
 * starts only once the table has read every customer change that was on the topic at start-up. A record the table
 * has applied is never applied again ({@link AppliedOffsets}): a rejoin that reads the topic again from the beginning
 * does not take the table back in time.
 * <p>
 * Beside the table, never holding it up, what a customer's change owes the orders ({@link CustomerBacklog}), worked
 * off in passes of many customers: the unmatched orders of a customer that came late are joined with it after all,
 * and in the {@code current} mode of {@code etl.enrich.customer-updates} an updated customer's indexed orders are
 * rewritten with its new fields.
 */
public class CustomerTableRoutes extends PipelineRoutes {

    static final String FOLLOW_ROUTE_ID = "follow-customer-changes";
    static final String UNMATCHED_ROUTE_ID = "keep-unmatched-orders";
    /** How long one tick of the backlog timer works off passes before it lets the next tick go on. */
    private static final long PASSES_MILLIS = 10_000;

    @Override
    protected void routes() throws Exception {
        RecordFormat format = bean(PipelineBeans.FORMAT, RecordFormat.class);
        CustomerUpdates updates = bean(PipelineBeans.CUSTOMER_UPDATES, CustomerUpdates.class);
        CustomerBacklog backlog = new CustomerBacklog(updates, format);
        AppliedOffsets tableOffsets = new AppliedOffsets("Customer table");
        AppliedOffsets unmatchedOffsets = new AppliedOffsets("Unmatched orders");
        CustomerTableCatchUp catchUp = new CustomerTableCatchUp(setting("etl.customers.source"),
                OrderEnrichmentRoutes.ROUTE_ID, UNMATCHED_ROUTE_ID, FOLLOW_ROUTE_ID);
        getContext().addStartupListener(catchUp);
        ExecutorService rewriteThread = getContext().getExecutorServiceManager()
                .newSingleThreadExecutor(this, "customer-rewrites");
        getContext().getTypeConverterRegistry().addTypeConverter(SearchRequest.Builder.class,
                CustomerRewrite.StaleOrdersSearch.class, CustomerRewrite.TO_REQUEST);

        from("{{etl.customers.source}}")
                .routeId("customer-table")
                .onCompletion() // applied, dead-lettered or skipped: the table has dealt with this record
                    .process(tableOffsets::applied)
                    .process(catchUp::applied)
                .end()
                .filter(method(tableOffsets, "isNew")) // a rejoin reads the topic again: what was applied stays applied
                .filter(body().isNotNull()) // a tombstone only compacts the topic: its delete came just before
                .process(e -> e.getMessage().setBody(format.readChange(e.getMessage(), Customer.class)))
                .process(e -> e.getMessage().setHeader(CaffeineConstants.KEY, change(e).row().id()))
                .choice()
                    .when(e -> change(e).isDelete()) // its orders keep the customer as they were enriched
                        .setHeader(CaffeineConstants.ACTION, constant(CaffeineConstants.ACTION_INVALIDATE))
                        .to("{{etl.customers.table}}")
                    .otherwise()
                        .process(e -> e.getMessage().setHeader(CaffeineConstants.VALUE, change(e).after()))
                        .setHeader(CaffeineConstants.ACTION, constant(CaffeineConstants.ACTION_PUT))
                        .to("{{etl.customers.table}}")
                .end()
                .process(e -> backlog.applied(change(e))); // what it owes the orders is done beside the table

        from("{{etl.orders.unmatched-source}}")
                .routeId(UNMATCHED_ROUTE_ID)
                .autoStartup(false) // with the order enrichment, once the customer table has caught up
                .onCompletion()
                    .process(unmatchedOffsets::applied)
                .end()
                .filter(method(unmatchedOffsets, "isNew"))
                .filter(body().isNotNull())
                .process(backlog::unmatched);

        from("{{etl.customers.backlog-timer}}")
                .routeId(FOLLOW_ROUTE_ID)
                .autoStartup(false) // with the order enrichment, once the customer table has caught up
                // one run of passes at a time (a timer does not wait for a tick that went on elsewhere): two passes at
                // once could rewrite one customer's orders with its rows of two moments, the older last
                .filter(backlog::startPasses)
                    // passes until the backlog is done, for a few seconds at most: the next tick goes on (a stage that
                    // holds one exchange for minutes would look stalled)
                    .loopDoWhile(e -> backlog.hasWork() && e.getClock().elapsed() < PASSES_MILLIS)
                        // the wait and the refresh below block: on the rewrites' own thread, never on the I/O thread of
                        // a client that a pass's writes came back on, which the order batches waited for may need
                        .threads().executorService(rewriteThread)
                        .setBody(method(backlog, "next"))
                        // current mode: an order batch that may have joined the old rows must be written before the search
                        .process(e -> updates.awaitBatchesUpTo(pass(e).batchesBefore()))
                        .enrich("direct:lookup-customers-of-pass", CustomerRewrite::found)
                        .enrich("direct:join-unmatched-orders", AggregationStrategies.useOriginal())
                        .loopDoWhile(e -> pass(e).hasMorePages())
                            .threads().executorService(rewriteThread)
                            .enrich("direct:search-stale-orders", CustomerRewrite::searched)
                            .enrich("direct:rewrite-stale-orders", AggregationStrategies.useOriginal())
                        .end()
                    .end()
                .end();

        from("direct:lookup-customers-of-pass")
                .routeId("lookup-customers-of-pass")
                .setHeader(CaffeineConstants.ACTION, constant(CaffeineConstants.ACTION_GET_ALL))
                .process(e -> e.getMessage().setHeader(CaffeineConstants.KEYS, pass(e).keys()))
                .to("{{etl.customers.table}}");

        from("direct:join-unmatched-orders")
                .routeId("join-unmatched-orders")
                .setBody(e -> backlog.joinUnmatched(pass(e)))
                .to("direct:load-enriched-orders");

        from("direct:search-stale-orders")
                .routeId("search-stale-orders")
                .filter(method(updates, "refresh")) // every write so far searchable; false: no index yet, nothing to rewrite
                    .setBody(e -> pass(e).staleOrdersSearch(updates.indexName()))
                    .to("{{etl.enrich.indexed-orders}}")
                .end();

        from("direct:rewrite-stale-orders")
                .routeId("rewrite-stale-orders")
                .setBody(e -> pass(e).rewritten())
                .to("direct:load-enriched-orders");
    }

    @SuppressWarnings("unchecked")
    private static ChangeEvent<Customer> change(Exchange exchange) {
        return exchange.getMessage().getBody(ChangeEvent.class);
    }

    private static CustomerRewrite pass(Exchange exchange) {
        return exchange.getMessage().getBody(CustomerRewrite.class);
    }
}

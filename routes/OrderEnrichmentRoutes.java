package dev.streametl.routes;

import dev.streametl.pipeline.ChangeEvent;
import dev.streametl.pipeline.CustomerUpdates;
import dev.streametl.pipeline.DeadLetter;
import dev.streametl.pipeline.EnrichedOrderBatch;
import dev.streametl.pipeline.KafkaBatch;
import dev.streametl.pipeline.KafkaRecords;
import dev.streametl.pipeline.Order;
import dev.streametl.pipeline.RecordFormat;
import org.apache.camel.Exchange;
import org.apache.camel.component.kafka.KafkaConstants;

/**
 * Stage 3, order enrichment: the order changes of a batch joined with their customers from the customer table (one
 * content enricher per batch: one lookup of all its customers); the batch then goes to the load stage, and its offsets
 * are committed only once loaded.
 */
public class OrderEnrichmentRoutes extends PipelineRoutes {

    static final String ROUTE_ID = "order-enrichment";

    @Override
    protected void routes() {
        long customerWaitMillis = Long.parseLong(setting("etl.enrich.customer-wait-ms"));
        CustomerUpdates updates = bean(PipelineBeans.CUSTOMER_UPDATES, CustomerUpdates.class);
        RecordFormat format = bean(PipelineBeans.FORMAT, RecordFormat.class);
        String unmatchedTopic = topic("etl.kafka.topic.unmatched");

        from("{{etl.orders.source}}")
                .routeId(ROUTE_ID)
                .autoStartup(false) // started by the customer table once it has caught up (CustomerTableRoutes)
                .process(updates::trackBatch) // current mode: rewrites wait for the batches that may have joined an old row
                .process(KafkaBatch::rememberOffsets)
                .to("direct:enrich-order")
                .to("direct:load-enriched-orders")
                .process(KafkaBatch::commit);

        // the content enricher, once per batch: its orders read, their customers looked up at once, joined in plain Java
        from("direct:enrich-order")
                .routeId("enrich-order")
                .process(e -> EnrichedOrderBatch.read(e, format))
                // the customer may simply not have arrived yet (the customers topic is read by another consumer, and a
                // customer row can be committed after the order that names it): the batch looks again for a while
                .loopDoWhile(e -> EnrichedOrderBatch.batch(e).waitsForCustomers(customerWaitMillis, System.currentTimeMillis()))
                    .filter(e -> EnrichedOrderBatch.batch(e).hasLookedUp())
                        .delay(constant(100)).syncDelayed().end() // end() closes the delay, not the filter
                    .end()
                    .enrich("direct:join-customer", EnrichedOrderBatch::found)
                .end()
                .process(e -> metrics.enriched(EnrichedOrderBatch.batch(e).enriched()))
                .split(method(EnrichedOrderBatch.class, "unmatched"))
                    .to("direct:unmatched-order")
                .end()
                .split(method(DeadLetter.class, "rejected"))
                    .to(DEAD_LETTER)
                .end()
                .process(EnrichedOrderBatch::toLoad);

        from("direct:join-customer")
                .routeId("join-customer")
                .process(EnrichedOrderBatch::lookup)
                .to("{{etl.customers.table}}");

        from("direct:unmatched-order")
                .routeId("unmatched-order")
                .log("Order ${body.after().orderId()} has no customer ${body.after().customerId()} yet: to the unmatched"
                     + " endpoint")
                .setHeader(DeadLetter.ERROR, simple("customer ${body.after().customerId()} not found"))
                // the order as it came, with its key and version: it can be joined later, and never over a newer change
                .process(e -> e.getMessage().setHeader(KafkaConstants.KEY, format.key(unmatchedTopic, change(e).after().id())))
                .process(e -> e.getMessage().setHeader(KafkaRecords.VERSION, String.valueOf(change(e).position())))
                .process(e -> e.getMessage().setBody(format.order(unmatchedTopic, change(e).after())))
                .to("{{etl.orders.unmatched}}")
                .process(metrics::unmatched);
    }

    @SuppressWarnings("unchecked")
    private static ChangeEvent<Order> change(Exchange exchange) {
        return exchange.getMessage().getBody(ChangeEvent.class);
    }
}

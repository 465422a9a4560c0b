package dev.streametl.routes;

import dev.streametl.pipeline.ChangeEvent;
import dev.streametl.pipeline.CustomerJoin;
import dev.streametl.pipeline.CustomerUpdates;
import dev.streametl.pipeline.CustomerWait;
import dev.streametl.pipeline.DeadLetter;
import dev.streametl.pipeline.EnrichedOrderBatch;
import dev.streametl.pipeline.Json;
import dev.streametl.pipeline.KafkaBatch;
import dev.streametl.pipeline.KafkaRecords;
import dev.streametl.pipeline.Order;
import dev.streametl.pipeline.PipelineRoutes;
import org.apache.camel.Exchange;
import org.apache.camel.component.caffeine.CaffeineConstants;
import org.apache.camel.component.kafka.KafkaConstants;

/**
 * Stage 3, order enrichment: each order change joined with its customer from the customer table (content enricher),
 * a batch at a time; the batch then goes to the load stage, and its offsets are committed only once loaded.
 */
public class OrderEnrichmentRoutes extends PipelineRoutes {

    static final String ROUTE_ID = "order-enrichment";

    @Override
    protected void routes() {
        long customerWaitMillis = Long.parseLong(setting("etl.enrich.customer-wait-ms"));
        CustomerUpdates updates = CustomerUpdates.of(getContext());

        from("{{etl.orders.source}}")
                .routeId(ROUTE_ID)
                .autoStartup(false) // started by the customer table once it has caught up (CustomerTableRoutes)
                .process(updates::trackBatch) // current mode: rewrites wait for the batches that may have joined an old row
                .process(KafkaBatch::rememberOffsets)
                .process(CustomerWait::startBatch) // its orders share one wait for late customers
                .split(method(KafkaBatch.class, "records"), new EnrichedOrderBatch())
                    .to("direct:enrich-order")
                .end()
                .to("direct:load-enriched-orders")
                .process(KafkaBatch::commit);

        from("direct:enrich-order")
                .routeId("enrich-order")
                .filter(body().isNotNull()) // a tombstone only compacts the topic: its delete came just before
                .process(e -> e.getMessage().setBody(ChangeEvent.parse(e.getMessage().getBody(String.class), Order.class)))
                // for the end-to-end lag, measured once the batch is loaded
                .process(e -> e.setProperty(EnrichedOrderBatch.SOURCE_TIMESTAMP, change(e).sourceTimestamp()))
                // plain Java rather than ${body.isDelete()}: the simple language's method calls cost more than the rest
                // of the record's trip through this route
                .choice()
                    .when(e -> change(e).isDelete())
                        .process(e -> e.getMessage().setBody(change(e).before().deletion(change(e).position())))
                    .otherwise()
                        .to("direct:join-customer") // the change goes on: the join takes its version along
                .end();

        from("direct:join-customer")
                .routeId("join-customer")
                .to("direct:lookup-customer")
                .loopDoWhile(new CustomerWait(customerWaitMillis))
                    .delay(constant(100)).syncDelayed().end() // end() closes the delay, not the loop
                    .to("direct:lookup-customer")
                .end()
                .choice()
                    .when(exchangeProperty(CustomerJoin.UNMATCHED))
                        .setHeader(DeadLetter.ERROR, simple("customer ${body.after().customerId()} not found"))
                        .to("direct:unmatched-order")
                    .otherwise()
                        .process(metrics::enriched)
                .end();

        from("direct:lookup-customer")
                .routeId("lookup-customer")
                .setHeader(CaffeineConstants.ACTION, constant(CaffeineConstants.ACTION_GET))
                .process(e -> e.getMessage().setHeader(CaffeineConstants.KEY, change(e).after().customerId()))
                .enrich("{{etl.customers.table}}", new CustomerJoin());

        from("direct:unmatched-order")
                .routeId("unmatched-order")
                .log("Order ${body.after().orderId()} has no customer ${body.after().customerId()} yet: to the unmatched"
                     + " endpoint")
                // the order as it came, with its key and version: it can be joined later, and never over a newer change
                .process(e -> e.getMessage().setHeader(KafkaConstants.KEY, change(e).after().id()))
                .process(e -> e.getMessage().setHeader(KafkaRecords.VERSION, String.valueOf(change(e).position())))
                .process(e -> e.getMessage().setBody(Json.write(change(e).after())))
                .to("{{etl.orders.unmatched}}")
                .process(metrics::unmatched);
    }

    @SuppressWarnings("unchecked")
    private static ChangeEvent<Order> change(Exchange exchange) {
        return exchange.getMessage().getBody(ChangeEvent.class);
    }
}

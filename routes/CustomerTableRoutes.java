package dev.streametl.routes;

import java.util.concurrent.ExecutorService;

import dev.streametl.pipeline.ChangeEvent;
import dev.streametl.pipeline.Customer;
import dev.streametl.pipeline.CustomerRewrite;
import dev.streametl.pipeline.CustomerTableCatchUp;
import dev.streametl.pipeline.CustomerUpdates;
import dev.streametl.pipeline.PipelineRoutes;
import org.apache.camel.Exchange;
import org.apache.camel.component.caffeine.CaffeineConstants;

/**
 * Stage 2, customer table: the latest row of every customer, by id, in a Caffeine cache that the order enrichment
 * looks up. Rebuilt from the customers change topic, read from the beginning, at every start: the order enrichment
 * starts only once the table has read every customer change that was on the topic at start-up. In the {@code current}
 * mode of {@code etl.enrich.customer-updates}, a customer change also rewrites the customer's enriched orders.
 */
public class CustomerTableRoutes extends PipelineRoutes {

    @Override
    protected void routes() throws Exception {
        CustomerUpdates updates = CustomerUpdates.of(getContext());
        ExecutorService rewrites = getContext().getExecutorServiceManager().newSingleThreadExecutor(this, "customer-rewrite");
        CustomerTableCatchUp catchUp = new CustomerTableCatchUp(setting("etl.customers.source"), OrderEnrichmentRoutes.ROUTE_ID);
        getContext().addStartupListener(catchUp);

        from("{{etl.customers.source}}")
                .routeId("customer-table")
                .onCompletion() // applied, dead-lettered or skipped: the table has dealt with this record
                    .process(catchUp::applied)
                .end()
                .filter(body().isNotNull()) // a tombstone only compacts the topic: its delete came just before
                .process(e -> e.getMessage().setBody(ChangeEvent.parse(e.getMessage().getBody(String.class), Customer.class)))
                .process(e -> e.getMessage().setHeader(CaffeineConstants.KEY, change(e).row().id()))
                .choice()
                    .when(e -> change(e).isDelete()) // its orders keep the customer as they were enriched
                        .setHeader(CaffeineConstants.ACTION, constant(CaffeineConstants.ACTION_INVALIDATE))
                        .to("{{etl.customers.table}}")
                    .otherwise()
                        .process(e -> e.getMessage().setBody(change(e).after()))
                        .setHeader(CaffeineConstants.ACTION, constant(CaffeineConstants.ACTION_PUT))
                        .to("{{etl.customers.table}}")
                        .filter(constant(updates.isCurrent()))
                            // on its own thread: the table goes on while the rewrite waits for an order batch
                            .setBody(simple("${body.id()}"))
                            .wireTap("direct:rewrite-customer-orders").executorService(rewrites)
                        .end()
                .end();

        from("direct:rewrite-customer-orders")
                .routeId("rewrite-customer-orders")
                .process(updates::holdWrites)
                // the customer as the table has it now: of two quick updates, both rewrites show the latest
                .setHeader(CaffeineConstants.ACTION, constant(CaffeineConstants.ACTION_GET))
                .setHeader(CaffeineConstants.KEY, body())
                .to("{{etl.customers.table}}")
                .filter(header(CaffeineConstants.ACTION_HAS_RESULT).isEqualTo(true)) // deleted since: nothing to show
                    .removeHeaders("CamelCaffeine*")
                    .setProperty(CustomerRewrite.CUSTOMER, body())
                    .loopDoWhile(CustomerRewrite::mayHaveMore)
                        .choice()
                            .when(method(updates, "refresh"))
                                .process(e -> e.getMessage().setBody(CustomerRewrite.staleOrdersSearch(e, updates.indexName())))
                                .to("{{etl.enrich.indexed-orders}}")
                                .setBody(method(CustomerRewrite.class, "rewrite"))
                                .to("direct:load-enriched-orders")
                            .otherwise()
                                .process(CustomerRewrite::done) // no index yet: no order to rewrite
                        .end()
                    .end()
                .end();
    }

    @SuppressWarnings("unchecked")
    private static ChangeEvent<Customer> change(Exchange exchange) {
        return exchange.getMessage().getBody(ChangeEvent.class);
    }
}

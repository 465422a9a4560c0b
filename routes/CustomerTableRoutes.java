package dev.streametl.routes;

import dev.streametl.pipeline.ChangeEvent;
import dev.streametl.pipeline.Customer;
import dev.streametl.pipeline.CustomerTableCatchUp;
import dev.streametl.pipeline.PipelineRoutes;
import org.apache.camel.component.caffeine.CaffeineConstants;

/**
 * Stage 2, customer table: the latest row of every customer, by id, in a Caffeine cache that the order enrichment
 * looks up. Rebuilt from the customers change topic, read from the beginning, at every start: the order enrichment
 * starts only once the table has read every customer change that was on the topic at start-up.
 */
public class CustomerTableRoutes extends PipelineRoutes {

    @Override
    protected void routes() throws Exception {
        CustomerTableCatchUp catchUp = new CustomerTableCatchUp(setting("etl.customers.source"), OrderEnrichmentRoutes.ROUTE_ID);
        getContext().addStartupListener(catchUp);

        from("{{etl.customers.source}}")
                .routeId("customer-table")
                .onCompletion() // applied, dead-lettered or skipped: the table has dealt with this record
                    .process(catchUp::applied)
                .end()
                .filter(body().isNotNull()) // a tombstone only compacts the topic: its delete came just before
                .process(e -> e.getMessage().setBody(ChangeEvent.parse(e.getMessage().getBody(String.class), Customer.class)))
                .setHeader(CaffeineConstants.KEY, simple("${body.row().id()}"))
                .choice()
                    .when(simple("${body.isDelete()}"))
                        .setHeader(CaffeineConstants.ACTION, constant(CaffeineConstants.ACTION_INVALIDATE))
                    .otherwise()
                        .setHeader(CaffeineConstants.ACTION, constant(CaffeineConstants.ACTION_PUT))
                        .setBody(simple("${body.after()}"))
                .end()
                .to("{{etl.customers.table}}");
    }
}

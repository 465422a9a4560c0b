package dev.streametl.routes;

import java.math.BigDecimal;

import dev.streametl.pipeline.ElasticsearchBulk;
import dev.streametl.pipeline.HighValueProspect;
import dev.streametl.pipeline.EnrichedOrder;
import dev.streametl.pipeline.Json;
import dev.streametl.pipeline.KafkaRecords;
import dev.streametl.pipeline.PipelineRoutes;
import dev.streametl.pipeline.ProductSalesTable;
import org.apache.camel.builder.AggregationStrategies;
import org.apache.camel.component.kafka.KafkaConstants;

/**
 * Stage 5, insights: the two live questions of the reference lab, asked of the enriched orders topic.
 * <ul>
 * <li>high value prospects: orders above {@code etl.insights.high-value-price} from customers who are not premium;</li>
 * <li>product sales: the running count of orders per product code (rebuilt from the topic at every start).</li>
 * </ul>
 */
public class InsightsRoutes extends PipelineRoutes {

    private final ProductSalesTable productSales = new ProductSalesTable();

    @Override
    protected void routes() {
        from("{{etl.prospects.source}}")
                .routeId("high-value-prospects")
                .filter(body().isNotNull())
                .process(e -> e.getMessage().setBody(Json.read(e.getMessage().getBody(String.class), EnrichedOrder.class)))
                .filter(new HighValueProspect(new BigDecimal(setting("etl.insights.high-value-price"))))
                .process(e -> e.getMessage().setHeader(KafkaConstants.KEY, e.getMessage().getBody(EnrichedOrder.class).id()))
                .marshal().json()
                .to("{{etl.prospects.sink}}");

        from("{{etl.product-sales.source}}")
                .routeId("product-sales")
                .process(productSales::apply)
                .filter(simple("${body.size()} > 0"))
                .multicast(AggregationStrategies.useOriginal())
                    .to("direct:index-product-sales", "direct:publish-product-sales")
                .end();

        writeInBulk(from("direct:index-product-sales")
                .routeId("index-product-sales")
                .process(ElasticsearchBulk::ofProductSales), "{{etl.product-sales.elasticsearch}}");

        from("direct:publish-product-sales")
                .routeId("publish-product-sales")
                .setBody(method(KafkaRecords.class, "ofProductSales"))
                .to("{{etl.product-sales.kafka}}");
    }
}

package dev.streametl.routes;

import java.math.BigDecimal;

import dev.streametl.pipeline.DeadLetter;
import dev.streametl.pipeline.ElasticsearchBulk;
import dev.streametl.pipeline.HighValueProspect;
import dev.streametl.pipeline.KafkaBatch;
import dev.streametl.pipeline.KafkaRecords;
import dev.streametl.pipeline.ProductSalesTable;
import dev.streametl.pipeline.RecordFormat;
import org.apache.camel.builder.AggregationStrategies;

/**
 * Stage 5, insights: the two live questions of the reference lab, asked of the enriched orders topic.
 * <ul>
 * <li>high value prospects: orders above {@code etl.insights.high-value-price} from customers who are not premium;</li>
 * <li>product sales: the running count of orders per product code (rebuilt from the topic at every start).</li>
 * </ul>
 */
public class InsightsRoutes extends PipelineRoutes {

    @Override
    protected void routes() {
        RecordFormat format = RecordFormat.of(getContext());
        String prospectsTopic = topic("etl.kafka.topic.prospects");
        String productSalesTopic = topic("etl.kafka.topic.product-sales");
        ProductSalesTable productSales = new ProductSalesTable(format);
        HighValueProspect highValue = new HighValueProspect(new BigDecimal(setting("etl.insights.high-value-price")),
                format, prospectsTopic);
        from("{{etl.prospects.source}}")
                .routeId("high-value-prospects")
                .process(KafkaBatch::rememberOffsets)
                .setBody(method(highValue, "prospects")) // a batch at a time: one send, one wait for the acks
                .filter(simple("${body.size()} > 0"))
                    .to("{{etl.prospects.sink}}")
                .end()
                .split(method(DeadLetter.class, "rejected"))
                    .to(DEAD_LETTER)
                .end()
                .process(KafkaBatch::commit);

        from("{{etl.product-sales.source}}")
                .routeId("product-sales")
                .process(productSales::apply)
                .split(method(DeadLetter.class, "rejected"))
                    .to(DEAD_LETTER)
                .end()
                .filter(simple("${body.size()} > 0"))
                .multicast(AggregationStrategies.useOriginal())
                    .to("direct:index-product-sales", "direct:publish-product-sales")
                .end();

        writeInBulk(from("direct:index-product-sales")
                .routeId("index-product-sales")
                .process(ElasticsearchBulk::ofProductSales), "{{etl.product-sales.elasticsearch}}");

        from("direct:publish-product-sales")
                .routeId("publish-product-sales")
                .setBody(exchange -> KafkaRecords.ofProductSales(exchange, format, productSalesTopic))
                .to("{{etl.product-sales.kafka}}");
    }
}

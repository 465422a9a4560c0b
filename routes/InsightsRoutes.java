package dev.streametl.routes;

import java.math.BigDecimal;
import java.time.Duration;

import dev.streametl.pipeline.DeadLetter;
import dev.streametl.pipeline.ElasticsearchBulk;
import dev.streametl.pipeline.HighValueProspect;
import dev.streametl.pipeline.KafkaBatch;
import dev.streametl.pipeline.KafkaRecords;
import dev.streametl.pipeline.KafkaSecurity;
import dev.streametl.pipeline.ProductSalesStage;
import dev.streametl.pipeline.RecordFormat;
import org.apache.camel.builder.AggregationStrategies;
import org.apache.camel.component.kafka.KafkaEndpoint;

/**
 * Stage 5, insights: the two live questions of the reference lab.
 * <ul>
 * <li>high value prospects: orders above {@code etl.insights.high-value-price} from customers who are not premium, asked
 * of the enriched orders topic;</li>
 * <li>product sales: the running count of orders per product code, counted from the order changes themselves (each
 * says the product before and after), kept per partition on a state topic: nothing per order, nothing read again at a
 * start. See {@link ProductSalesStage}.</li>
 * </ul>
 */
public class InsightsRoutes extends PipelineRoutes {

    @Override
    protected void routes() throws Exception {
        RecordFormat format = bean(PipelineBeans.FORMAT, RecordFormat.class);
        String prospectsTopic = topic("etl.kafka.topic.prospects");
        String productSalesTopic = topic("etl.kafka.topic.product-sales");
        HighValueProspect highValue = new HighValueProspect(new BigDecimal(setting("etl.insights.high-value-price")),
                format, prospectsTopic);
        boolean stateOnKafka = getContext().getEndpoint(setting("etl.product-sales.state-source")) instanceof KafkaEndpoint;
        ProductSalesStage productSales = new ProductSalesStage(format, topic("etl.kafka.topic.product-sales-state"),
                stateOnKafka ? () -> KafkaSecurity.clientConfig(getContext()) : null, Duration.ofSeconds(60));

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

        // the order changes counted: the counts of the partitions a batch moved are stored, then its offsets committed
        from("{{etl.product-sales.source}}")
                .routeId("product-sales")
                .process(KafkaBatch::rememberOffsets)
                .process(productSales::count)
                .split(method(DeadLetter.class, "rejected"))
                    .to(DEAD_LETTER)
                .end()
                .filter(simple("${body.size()} > 0"))
                    .to("{{etl.product-sales.state}}")
                .end()
                .process(KafkaBatch::commit);

        // every partition's counts, from the state topic: the sums of the products they changed, published
        from("{{etl.product-sales.state-source}}")
                .routeId("product-sales-state")
                .process(productSales::restore)
                .split(method(DeadLetter.class, "rejected"))
                    .to(DEAD_LETTER)
                .end()
                .filter(simple("${body.size()} > 0"))
                .multicast(AggregationStrategies.useOriginal())
                    .to("direct:index-product-sales", "direct:publish-product-sales")
                .end();

        writeInBulk("index-product-sales", "direct:index-product-sales", ElasticsearchBulk::ofProductSales,
                "{{etl.product-sales.elasticsearch}}", exchange -> { }); // the sums are published: nothing more

        from("direct:publish-product-sales")
                .routeId("publish-product-sales")
                .setBody(exchange -> KafkaRecords.ofProductSales(exchange, format, productSalesTopic))
                .to("{{etl.product-sales.kafka}}");
    }
}

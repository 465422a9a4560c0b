package dev.streametl.routes;

import dev.streametl.pipeline.BatchFence;
import dev.streametl.pipeline.ElasticsearchBulk;
import dev.streametl.pipeline.KafkaRecords;
import dev.streametl.pipeline.OrderWrite;
import dev.streametl.pipeline.RecordFormat;
import org.apache.camel.builder.AggregationStrategies;

/**
 * Stage 4, load: a batch of enriched order changes to Elasticsearch (one bulk request, document id = order id, every
 * item's result checked) and to the enriched orders topic (key = order id, tombstone for a delete), both at once. Both
 * are keyed, so a replay is harmless; the batch is done (and its offsets committed) only once both have it. Each
 * order's JSON is made once, before the batch goes to both: the document and (in JSON format) the record's value.
 */
public class LoadRoutes extends PipelineRoutes {

    @Override
    protected void routes() {
        RecordFormat format = bean(PipelineBeans.FORMAT, RecordFormat.class);
        String enrichedOrdersTopic = topic("etl.kafka.topic.enriched-orders");
        from("direct:load-enriched-orders")
                .routeId("load-enriched-orders")
                .filter(simple("${body.size()} > 0"))
                .setBody(method(OrderWrite.class, "ofBatch")) // each order's JSON made once, for both sinks
                .multicast(AggregationStrategies.useOriginal()).parallelProcessing() // both sinks at once; done when both are
                    .to("direct:index-enriched-orders", "direct:publish-enriched-orders")
                .end();

        // what ES took, and the end-to-end lag of the batch, counted once it is written
        writeInBulk("index-enriched-orders", "direct:index-enriched-orders", ElasticsearchBulk::ofEnrichedOrders,
                "{{etl.load.elasticsearch}}", metrics::indexed);

        from("direct:publish-enriched-orders")
                .routeId("publish-enriched-orders")
                .filter(BatchFence::holds) // not a batch the partitions' new owner has loaded again
                .setBody(exchange -> KafkaRecords.ofEnrichedOrders(exchange, format, enrichedOrdersTopic))
                .to("{{etl.load.kafka}}");
    }
}

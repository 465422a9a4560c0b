package dev.streametl.routes;

import dev.streametl.pipeline.BatchFence;
import dev.streametl.pipeline.ElasticsearchBulk;

/**
 * The bulk write to Elasticsearch, one shape for every index the pipeline writes: a route template, made into one
 * route per index by {@link PipelineRoutes#writeInBulk} (the enriched orders, the product sales).
 * <p>
 * A batch's documents are written in bulks until each is written or refused: the items Elasticsearch cannot take now
 * are sent again with backoff, the items it rejects go to the dead letter endpoint with its reason, and a batch whose
 * partitions another consumer now owns is left to it ({@link BatchFence}). Each attempt makes its operations anew, so
 * the retry is this loop's, not the error handler's.
 */
public class ElasticsearchRoutes extends PipelineRoutes {

    /** The template's id. Parameters: source, elasticsearch (endpoints); beans: documents, written (processors). */
    public static final String BULK_WRITE = "elasticsearch-bulk-write";

    @Override
    protected void routes() {
        routeTemplate(BULK_WRITE)
                .templateParameter("source")
                .templateParameter("elasticsearch")
                .from("{{source}}")
                .process("{{documents}}")
                .loopDoWhile(e -> ElasticsearchBulk.hasPending(e) && BatchFence.holds(e))
                    .filter(ElasticsearchBulk::isRetry)
                        .process(metrics::retried)
                    .end()
                    // asynchronous: a retry comes on the client's I/O thread that brought the answer, and a backoff of
                    // up to 30 s there would hold up every other request answered on it
                    .delay(method(ElasticsearchBulk.class, "backoffMillis")).asyncDelayed().end()
                    .setBody(method(ElasticsearchBulk.class, "operations"))
                    .doTry()
                        .process(metrics::bulkStarted)
                        .to("{{elasticsearch}}")
                        .process(metrics::bulkAnswered)
                        .process(ElasticsearchBulk::checkItems)
                    .doCatch(Exception.class)
                        .process(metrics::bulkFailed)
                        .process(ElasticsearchBulk::attemptFailed)
                    .end()
                .end()
                .split(method(ElasticsearchBulk.class, "rejected"))
                    .to(DEAD_LETTER)
                .end()
                .process("{{written}}");
    }
}

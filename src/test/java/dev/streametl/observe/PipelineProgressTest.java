package dev.streametl.observe;

import java.math.BigDecimal;
import java.util.Map;

import dev.streametl.pipeline.EnrichedOrder;
import dev.streametl.pipeline.EnrichedOrderBatch;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.camel.Exchange;
import org.apache.camel.component.debezium.DebeziumConstants;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PipelineProgressTest {

    final DefaultCamelContext camel = new DefaultCamelContext();
    final PipelineMetrics metrics = new PipelineMetrics(new SimpleMeterRegistry());
    int estimates;
    final PipelineProgress progress = new PipelineProgress(metrics, () -> {
        estimates++;
        return Map.of("customers", 2L, "orders", 8L);
    });

    @Test
    void showsHowFarTheSnapshotHasGotAgainstTheEstimate() {
        captured("customers", "r", "first");
        captured("orders", "r", "true");

        assertEquals("Progress: captured 2 (customers 1, orders 1), enriched 0, indexed 0, unmatched 0, dead-lettered 0,"
                     + " lag n/a; snapshot 2 of ~10 rows (20%)", progress.line());

        captured("orders", "r", "true");
        captured("orders", "r", "true");
        assertTrue(progress.line().endsWith("; snapshot 4 of ~10 rows (40%)"), progress.line());
        assertEquals(1, estimates, "the estimate is read once");
    }

    @Test
    void theSnapshotPartGoesOnceTheLastSnapshotRowOrAStreamedChangeIsCaptured() {
        captured("orders", "r", "true");
        captured("orders", "r", "last");
        assertFalse(progress.line().contains("snapshot"), progress.line());

        PipelineMetrics streaming = new PipelineMetrics(new SimpleMeterRegistry());
        PipelineProgress line = new PipelineProgress(streaming, Map::of);
        streaming.captured(change("orders", "r", "true"));
        assertTrue(line.line().contains("snapshot 1 rows read (no estimate)"), line.line());
        streaming.captured(change("orders", "c", "false"));
        assertFalse(line.line().contains("snapshot"), line.line());
    }

    @Test
    void countsWhatEachStageDid() {
        Exchange exchange = new DefaultExchange(camel);
        metrics.enriched(exchange);
        metrics.enriched(exchange);
        metrics.unmatched(exchange);
        metrics.deadLettered(exchange);

        assertEquals("Progress: captured 0, enriched 2, indexed 0, unmatched 1, dead-lettered 1, lag n/a", progress.line());
    }

    @Test
    void showsTheLagOfTheLastOrderIndexedFromItsCommitAtTheSource() {
        Exchange order = new DefaultExchange(camel);
        order.getMessage().setBody(new EnrichedOrder(7, new BigDecimal("10.00"), "PEN-05",
                new dev.streametl.pipeline.Customer(3, "Anna Berg", 41, "standard"), 1));
        order.setProperty(EnrichedOrderBatch.SOURCE_TIMESTAMP, System.currentTimeMillis() - 5_000);
        Exchange batch = new EnrichedOrderBatch().aggregate(null, order);

        metrics.indexed(batch);

        assertTrue(progress.line().matches(".*, lag 5\\.\\d s"), progress.line());
        assertTrue(metrics.latestLagMillis() >= 5_000 && metrics.latestLagMillis() < 60_000);
    }

    @Test
    void lagIsShownInSeconds() {
        assertEquals("n/a", PipelineProgress.lag(-1));
        assertEquals("0.3 s", PipelineProgress.lag(250));
        assertEquals("9.9 s", PipelineProgress.lag(9_949));
        assertEquals("75 s", PipelineProgress.lag(75_400));
    }

    private void captured(String table, String op, String snapshot) {
        metrics.captured(change(table, op, snapshot));
    }

    private Exchange change(String table, String op, String snapshot) {
        Exchange exchange = new DefaultExchange(camel);
        exchange.getMessage().setHeader(DebeziumConstants.HEADER_IDENTIFIER, "postgres.public." + table);
        exchange.getMessage().setHeader(DebeziumConstants.HEADER_OPERATION, op);
        exchange.getMessage().setHeader(DebeziumConstants.HEADER_SOURCE_METADATA, Map.of("snapshot", snapshot, "ts_ms", 1L));
        return exchange;
    }
}

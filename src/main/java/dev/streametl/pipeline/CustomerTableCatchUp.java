package dev.streametl.pipeline;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.camel.CamelContext;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.StartupListener;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.kafka.KafkaEndpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the order enrichment back until the customer table has caught up: at start-up it notes where the customers
 * topic ends, and starts the gated routes (the order enrichment, and what joins orders with the table beside it) only
 * once the customer table has applied every record up to there. Orders are then never joined with a half-rebuilt table
 * (an old version of a customer, or none at all).
 * <p>
 * A customer source that is not a Kafka topic (direct: in tests) has nothing to catch up with: the gate opens at once.
 */
public final class CustomerTableCatchUp implements StartupListener {

    private static final Logger LOG = LoggerFactory.getLogger(CustomerTableCatchUp.class);

    private final String customerSourceUri;
    private final List<String> gatedRouteIds;
    private final long startedAt = System.currentTimeMillis();
    private CamelContext context;
    /** The offset of the last record applied, per partition. */
    private final Map<Integer, Long> appliedOffsets = new HashMap<>();
    /** For each partition: the offset of the last record present at start-up; null until known. */
    private Map<Integer, Long> lastOffsets;
    private long applied;
    private boolean open;

    /**
     * @param customerSourceUri the endpoint the customer table reads
     * @param gatedRouteIds     the routes to start once the table has caught up (declared with autoStartup false)
     */
    public CustomerTableCatchUp(String customerSourceUri, String... gatedRouteIds) {
        this.customerSourceUri = customerSourceUri;
        this.gatedRouteIds = List.of(gatedRouteIds);
    }

    /** Once every route runs: notes where the customers topic ends now, and opens the gate if already there. */
    @Override
    public void onCamelContextStarted(CamelContext context, boolean alreadyStarted) {
        // nothing yet: the end offsets are read once every route runs (onCamelContextFullyStarted)
    }

    @Override
    public void onCamelContextFullyStarted(CamelContext context, boolean alreadyStarted) throws Exception {
        Endpoint source = context.getEndpoint(customerSourceUri);
        Map<Integer, Long> last = Map.of();
        if (source instanceof KafkaEndpoint kafka) {
            last = KafkaTopics.lastOffsets(KafkaSecurity.clientConfig(kafka.getConfiguration()), kafka.getConfiguration().getTopic());
            LOG.info("Order enrichment waits until the customer table has read {} up to offsets {}",
                    kafka.getConfiguration().getTopic(), last);
        }
        synchronized (this) {
            this.context = context;
            this.lastOffsets = new HashMap<>(last);
            openIfCaughtUp();
        }
    }

    /** Called after the customer table has applied a record (any record of the customers source). */
    public synchronized void applied(Exchange exchange) {
        applied++;
        if (open) {
            return;
        }
        Integer partition = exchange.getMessage().getHeader(KafkaConstants.PARTITION, Integer.class);
        Long offset = exchange.getMessage().getHeader(KafkaConstants.OFFSET, Long.class);
        if (partition != null && offset != null) {
            appliedOffsets.merge(partition, offset, Math::max);
        }
        openIfCaughtUp();
    }

    public synchronized boolean isOpen() {
        return open;
    }

    private void openIfCaughtUp() {
        if (open || lastOffsets == null) {
            return;
        }
        lastOffsets.entrySet().removeIf(last -> appliedOffsets.getOrDefault(last.getKey(), -1L) >= last.getValue());
        if (!lastOffsets.isEmpty()) {
            return;
        }
        open = true;
        LOG.info("Customer table caught up ({} changes applied in {} ms): starting routes {}", applied,
                System.currentTimeMillis() - startedAt, gatedRouteIds);
        // not on the consumer thread of the customer table, which must go on reading
        CamelContext camel = context;
        Thread starter = new Thread(() -> {
            for (String routeId : gatedRouteIds) {
                try {
                    camel.getRouteController().startRoute(routeId);
                } catch (Exception e) {
                    LOG.error("Cannot start route {}", routeId, e);
                }
            }
        }, "start-gated-routes");
        starter.setDaemon(true);
        starter.start();
    }
}

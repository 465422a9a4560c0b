package dev.streametl.pipeline;

import org.apache.camel.AggregationStrategy;
import org.apache.camel.Exchange;
import org.apache.camel.component.caffeine.CaffeineConstants;

/**
 * The join of the content enricher: the order change (original exchange, body {@code ChangeEvent<Order>}) with the
 * customer looked up in the customer table (resource exchange), into an {@link EnrichedOrder} at the change's
 * version. An order whose customer is not in the table keeps its change as body and is marked {@link #UNMATCHED}, so
 * the route decides what happens to it.
 */
public final class CustomerJoin implements AggregationStrategy {

    /** Exchange property set to true when the order's customer is not in the table. */
    public static final String UNMATCHED = "etlUnmatched";

    private static final String[] LOOKUP_HEADERS = { CaffeineConstants.ACTION, CaffeineConstants.KEY,
        CaffeineConstants.KEYS, CaffeineConstants.VALUE, CaffeineConstants.OLD_VALUE, CaffeineConstants.ACTION_HAS_RESULT,
        CaffeineConstants.ACTION_SUCCEEDED };

    @Override
    @SuppressWarnings("unchecked")
    public Exchange aggregate(Exchange order, Exchange lookup) {
        Object customer = lookup == null ? null : lookup.getMessage().getBody();
        boolean found = lookup != null
                && Boolean.TRUE.equals(lookup.getMessage().getHeader(CaffeineConstants.ACTION_HAS_RESULT, Boolean.class))
                && customer instanceof Customer;
        if (found) {
            ChangeEvent<Order> change = order.getMessage().getBody(ChangeEvent.class);
            order.getMessage().setBody(RecordFault.guard(() -> EnrichedOrder.of(change.after(), (Customer) customer,
                    change.position())));
        }
        order.setProperty(UNMATCHED, !found);
        // by name: removeHeaders("CamelCaffeine*") compiles a pattern for every order
        for (String header : LOOKUP_HEADERS) {
            order.getMessage().removeHeader(header);
        }
        return order;
    }
}

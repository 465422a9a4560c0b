package dev.streametl.pipeline;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import co.elastic.clients.elasticsearch.core.SearchRequest;
import co.elastic.clients.elasticsearch.core.search.Hit;
import co.elastic.clients.elasticsearch.core.search.HitsMetadata;
import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.Exchange;

/**
 * The rewrite of a customer's enriched orders after a customer update ({@code current} mode of
 * {@link CustomerUpdates}): a search for the customer's orders whose customer fields differ from the new row, then
 * those orders with the new fields, a page at a time. A page rewritten is no longer stale once refreshed, so the next
 * search from the top finds the rest.
 */
public final class CustomerRewrite {

    /** Exchange property: the customer row the orders must show. */
    public static final String CUSTOMER = "etlRewriteCustomer";
    private static final String MORE = "etlRewriteMore";
    /** Orders per search and per bulk. */
    public static final int PAGE = 500;

    private CustomerRewrite() {
    }

    /** Whether another page of stale orders may remain (true before the first search). */
    public static boolean mayHaveMore(Exchange exchange) {
        return exchange.getProperty(MORE, true, Boolean.class);
    }

    /** Stops the rewrite: nothing (more) to search. */
    public static void done(Exchange exchange) {
        exchange.setProperty(MORE, false);
    }

    /**
     * The search for the customer's orders that do not show the customer's current fields: a page of them, each with
     * its version (the rewrite writes it back at that version, so that it loses to any newer change of the order).
     */
    public static SearchRequest.Builder staleOrdersSearch(Exchange exchange, String indexName) {
        Customer customer = exchange.getProperty(CUSTOMER, Customer.class);
        List<Object> current = List.of(equal("customer_name", customer.name()), equal("customer_age", customer.age()),
                equal("customer_membership", customer.membership()));
        String query = Json.write(Map.of("bool", Map.of(
                "filter", List.of(Map.of("term", Map.of("customer_id", customer.id()))),
                "must_not", List.of(Map.of("bool", Map.of("filter", current))))));
        SearchRequest.Builder search = new SearchRequest.Builder().size(PAGE).version(true)
                .query(q -> q.withJson(new StringReader(query)));
        return indexName == null ? search : search.index(indexName);
    }

    private static Object equal(String field, Object value) {
        return value == null
                ? Map.of("bool", Map.of("must_not", List.of(Map.of("exists", Map.of("field", field)))))
                : Map.of("term", Map.of(field, value));
    }

    /** The stale orders found (body: the search hits), with the customer's current fields, ready to load. */
    public static List<EnrichedOrderChange> rewrite(Exchange exchange) {
        Customer customer = exchange.getProperty(CUSTOMER, Customer.class);
        List<EnrichedOrderChange> orders = new ArrayList<>();
        if (exchange.getMessage().getBody() instanceof HitsMetadata<?> hits) {
            for (Hit<?> hit : hits.hits()) {
                EnrichedOrder old = Json.MAPPER.convertValue((JsonNode) hit.source(), EnrichedOrder.class);
                // the version the document has: the rewrite loses to any newer change of the order written meanwhile
                long version = hit.version() == null ? EnrichedOrderChange.UNKNOWN_VERSION : hit.version();
                orders.add(old.withCustomer(customer, version));
            }
        }
        exchange.setProperty(MORE, orders.size() == PAGE);
        return orders;
    }
}

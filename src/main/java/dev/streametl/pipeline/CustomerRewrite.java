package dev.streametl.pipeline;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import co.elastic.clients.elasticsearch._types.FieldValue;
import co.elastic.clients.elasticsearch._types.SortOrder;
import co.elastic.clients.elasticsearch.core.SearchRequest;
import co.elastic.clients.elasticsearch.core.search.Hit;
import co.elastic.clients.elasticsearch.core.search.HitsMetadata;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.Exchange;
import org.apache.camel.TypeConverter;
import org.apache.camel.support.TypeConverterSupport;

/**
 * One pass over customers the table has applied and whose orders still need something ({@link CustomerBacklog}):
 * their rows as the table has them now, the unmatched orders waiting for them, and, for the customers updated in
 * {@code current} mode ({@link CustomerUpdates}), the rewrite of their indexed orders that do not show the customer's
 * current fields. One search covers every customer of the pass, a page at a time, by order id ({@code search_after}):
 * a customer with more than one page of orders has each page rewritten once. Each order is written back at the version
 * it has in the index, so that the rewrite loses to any newer change of the order written meanwhile.
 */
public final class CustomerRewrite {

    /** Orders per search and per bulk. */
    public static final int PAGE = 500;
    /**
     * Customers per pass: one search holds a few clauses per customer, and Elasticsearch refuses a query of more than
     * 1,024 clauses with a small heap.
     */
    public static final int CUSTOMERS = 100;

    private final Set<Integer> ids;
    private final Set<Integer> updated;
    private final long batchesBefore;
    private Map<Integer, Customer> customers = Map.of();
    private boolean morePages;
    private Integer lastOrderId;
    private List<EnrichedOrderChange> rewritten = List.of();

    /**
     * @param ids           the customers of this pass
     * @param updated       those of them whose indexed orders are to be rewritten
     * @param batchesBefore the last order batch started before this pass: it may have joined the old customer rows
     */
    CustomerRewrite(Set<Integer> ids, Set<Integer> updated, long batchesBefore) {
        this.ids = Set.copyOf(ids);
        this.updated = Set.copyOf(updated);
        this.batchesBefore = batchesBefore;
    }

    public Set<Integer> ids() {
        return ids;
    }

    public long batchesBefore() {
        return batchesBefore;
    }

    /** The customer as the table had it when this pass looked it up, or null if it is not in the table. */
    public Customer customer(int id) {
        return customers.get(id);
    }

    /** Aggregation of the table's answer (a map of the customers found, by id) into the pass (body of the original). */
    public static Exchange found(Exchange pass, Exchange lookup) {
        CustomerRewrite rewrite = pass.getMessage().getBody(CustomerRewrite.class);
        Map<Integer, Customer> found = new HashMap<>();
        if (lookup != null && lookup.getMessage().getBody() instanceof Map<?, ?> rows) {
            rows.forEach((id, row) -> {
                if (row instanceof Customer customer) {
                    found.put(customer.id(), customer);
                }
            });
        }
        rewrite.customers = found;
        rewrite.morePages = rewrite.updated.stream().anyMatch(found::containsKey);
        return pass;
    }

    /** Whether another page of stale orders may remain (false once the last page was rewritten). */
    public boolean hasMorePages() {
        return morePages;
    }

    /**
     * The search for the next page of the updated customers' orders that do not show their current fields, by order id,
     * each with its version.
     */
    public StaleOrdersSearch staleOrdersSearch(String indexName) {
        List<Object> stale = new ArrayList<>();
        for (int id : updated) {
            Customer customer = customers.get(id);
            if (customer != null) {
                List<Object> current = new ArrayList<>();
                customerFields(customer).forEach((field, value) -> current.add(equal(field, value)));
                stale.add(Map.of("bool", Map.of("filter", List.of(Map.of("term", Map.of("customer_id", id))),
                        "must_not", List.of(Map.of("bool", Map.of("filter", current))))));
            }
        }
        return new StaleOrdersSearch(indexName, Json.write(Map.of("bool", Map.of("should", stale,
                "minimum_should_match", 1))), lastOrderId);
    }

    /**
     * A search for stale orders, as the elasticsearch: endpoint takes it: converted to a new request builder at every
     * attempt ({@link #TO_REQUEST}), since a builder can be built only once and a failed search is tried again.
     *
     * @param indexName   the index, or null when the endpoint is not Elasticsearch
     * @param query       the query (Query DSL JSON)
     * @param lastOrderId the last order id of the page before ({@code search_after}), or null for the first page
     */
    public record StaleOrdersSearch(String indexName, String query, Integer lastOrderId) {

        public SearchRequest.Builder request() {
            SearchRequest.Builder search = new SearchRequest.Builder().size(PAGE).version(true)
                    .query(q -> q.withJson(new StringReader(query)))
                    .sort(s -> s.field(f -> f.field("order_id").order(SortOrder.Asc)));
            if (lastOrderId != null) {
                search.searchAfter(FieldValue.of(lastOrderId.longValue()));
            }
            return indexName == null ? search : search.index(indexName);
        }
    }

    /** The type converter from {@link StaleOrdersSearch} to the request builder the elasticsearch: endpoint takes. */
    public static final TypeConverter TO_REQUEST = new TypeConverterSupport() {
        @Override
        public <T> T convertTo(Class<T> type, Exchange exchange, Object value) {
            return type.cast(((StaleOrdersSearch) value).request());
        }
    };

    /**
     * The fields a customer gives its enriched orders ({@code customer_<column>}, as {@link EnrichedOrder} writes them),
     * but its id: every column of {@link Customer}, so that a change of any of them is seen.
     */
    private static Map<String, Object> customerFields(Customer customer) {
        Map<String, Object> fields = new LinkedHashMap<>();
        Json.MAPPER.convertValue(customer, new TypeReference<LinkedHashMap<String, Object>>() { })
                .forEach((column, value) -> {
                    if (!"id".equals(column)) {
                        fields.put("customer_" + column, value);
                    }
                });
        return fields;
    }

    private static Object equal(String field, Object value) {
        return value == null
                ? Map.of("bool", Map.of("must_not", List.of(Map.of("exists", Map.of("field", field)))))
                : Map.of("term", Map.of(field, value));
    }

    /**
     * Aggregation of a page of stale orders (the search hits; anything else: no index, nothing to rewrite) into the pass
     * (body of the original): those orders with their customer's current fields, at the version they have.
     */
    public static Exchange searched(Exchange pass, Exchange search) {
        CustomerRewrite rewrite = pass.getMessage().getBody(CustomerRewrite.class);
        List<EnrichedOrderChange> orders = new ArrayList<>();
        int hitCount = 0;
        if (search != null && search.getMessage().getBody() instanceof HitsMetadata<?> hits) {
            hitCount = hits.hits().size();
            for (Hit<?> hit : hits.hits()) {
                EnrichedOrder old = Json.MAPPER.convertValue((JsonNode) hit.source(), EnrichedOrder.class);
                rewrite.lastOrderId = old.orderId();
                Customer customer = rewrite.customers.get(old.customer().id());
                if (customer != null) {
                    long version = hit.version() == null ? EnrichedOrderChange.UNKNOWN_VERSION : hit.version();
                    orders.add(old.withCustomer(customer, version));
                }
            }
        }
        rewrite.rewritten = orders;
        rewrite.morePages = hitCount == PAGE;
        return pass;
    }

    /** The orders of the last page searched, with their customer's current fields, ready to load. */
    public List<EnrichedOrderChange> rewritten() {
        return rewritten;
    }

    /** The keys of the customers this pass looks up in the table (the cache keeps its keys as text). */
    public Set<String> keys() {
        Set<String> keys = new LinkedHashSet<>();
        ids.forEach(id -> keys.add(String.valueOf(id)));
        return keys;
    }
}

package dev.streametl.pipeline;

import java.util.ArrayList;
import java.util.List;

import co.elastic.clients.elasticsearch.core.bulk.DeleteOperation;
import co.elastic.clients.elasticsearch.core.bulk.IndexOperation;

/**
 * Bulk operations for an elasticsearch: endpoint ({@code operation=Bulk}, index named on the endpoint): each
 * document is written under its own id, so a replayed change overwrites instead of duplicating.
 */
public final class ElasticsearchBulk {

    private ElasticsearchBulk() {
    }

    public static List<Object> ofEnrichedOrders(List<EnrichedOrderChange> changes) {
        List<Object> operations = new ArrayList<>(changes.size());
        for (EnrichedOrderChange change : changes) {
            if (change instanceof EnrichedOrder order) {
                operations.add(new IndexOperation.Builder<EnrichedOrder>().id(order.id()).document(order));
            } else {
                operations.add(new DeleteOperation.Builder().id(change.id()));
            }
        }
        return operations;
    }

    public static List<Object> ofProductSales(List<ProductSales> sales) {
        List<Object> operations = new ArrayList<>(sales.size());
        for (ProductSales productSales : sales) {
            operations.add(new IndexOperation.Builder<ProductSales>().id(productSales.productCode()).document(productSales));
        }
        return operations;
    }
}

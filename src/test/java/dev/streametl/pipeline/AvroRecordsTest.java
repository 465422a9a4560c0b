package dev.streametl.pipeline;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Avro form of the pipeline's records is their JSON form: the same fields, in the same order, the same values. */
class AvroRecordsTest {

    static final EnrichedOrder ORDER = new EnrichedOrder(7, new BigDecimal("312.50"), "BAG-01",
            new Customer(3, "Ada Quinn", null, "premium"), 42);

    @Test
    void anEnrichedOrdersSchemaHasTheFieldsOfItsJsonDocument() throws Exception {
        List<String> jsonFields = new ArrayList<>();
        Json.MAPPER.readTree(Json.write(ORDER)).fieldNames().forEachRemaining(jsonFields::add);

        Schema schema = AvroRecords.schema(EnrichedOrder.class);

        assertEquals(jsonFields, schema.getFields().stream().map(Schema.Field::name).toList());
        assertEquals(List.of("order_id", "price", "product_code", "customer_id", "customer_name", "customer_age",
                "customer_membership"), jsonFields, "the customer's columns are inlined with their prefix");
        assertEquals(Schema.Type.INT, schema.getField("order_id").schema().getType(), "an int is required");
        assertTrue(schema.getField("customer_age").schema().isNullable(), "a boxed value is optional");
        assertTrue(schema.getField("customer_name").hasDefaultValue(), "an optional field defaults to null");
        assertEquals(LogicalTypes.decimal(10, 2), schema.getField("price").schema().getLogicalType());
    }

    @Test
    void anEnrichedOrderComesBackAsItWent() {
        GenericRecord record = AvroRecords.record(ConfluentAvro.ENRICHED_ORDER, ORDER);

        assertEquals("Ada Quinn", record.get("customer_name"));
        assertNull(record.get("customer_age"));
        assertEquals(EnrichedOrder.read(7, new BigDecimal("312.50"), "BAG-01", ORDER.customer()),
                AvroRecords.value(record, EnrichedOrder.class));
    }

    @Test
    void aPriceWithMoreDecimalsThanTheSchemaIsTheRecordsFault() {
        EnrichedOrder order = new EnrichedOrder(8, new BigDecimal("1.005"), "PEN-01", ORDER.customer(), 43);

        InvalidRecordException refused = assertThrows(InvalidRecordException.class,
                () -> AvroRecords.record(ConfluentAvro.ENRICHED_ORDER, order));
        assertTrue(refused.getMessage().contains("price 1.005"), refused.getMessage());
    }

    @Test
    void aRecordMissingARequiredFieldIsRefusedAsItsJsonWouldBe() {
        Schema older = AvroRecords.schema(ProductSales.class);
        GenericRecord record = new org.apache.avro.generic.GenericData.Record(older);
        record.put("order_count", 3L); // no product_code

        assertEquals(new ProductSales(null, 3), AvroRecords.value(record, ProductSales.class),
                "an optional field may be null");
        GenericRecord noPrice = AvroRecords.record(ConfluentAvro.ENRICHED_ORDER, ORDER);
        noPrice.put("price", null);
        InvalidRecordException refused = assertThrows(InvalidRecordException.class,
                () -> AvroRecords.value(noPrice, EnrichedOrder.class));
        assertTrue(refused.getMessage().contains("EnrichedOrder"), refused.getMessage());
    }
}

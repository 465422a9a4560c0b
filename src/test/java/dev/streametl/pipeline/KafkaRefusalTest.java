package dev.streametl.pipeline;

import java.util.Arrays;

import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A change Kafka refuses for good keeps, as a dead letter, as much of its record as fits: Avro bytes as bytes. */
class KafkaRefusalTest {

    @Test
    void anAvroRecordTooLargeKeepsItsFirstBytesAsTheyAre() {
        byte[] avro = new byte[KafkaRefusal.KEPT_CHARS + 1000];
        Arrays.fill(avro, (byte) 0xC8); // not UTF-8: as text it would be replacement characters
        avro[0] = ConfluentAvro.MAGIC_BYTE;
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.getMessage().setBody(avro);

        KafkaRefusal.deadLetter(exchange);

        assertArrayEquals(Arrays.copyOf(avro, KafkaRefusal.KEPT_CHARS), exchange.getMessage().getBody(byte[].class));
        assertEquals(String.valueOf(avro.length), exchange.getMessage().getHeader(KafkaRefusal.ORIGINAL_SIZE));
    }
}

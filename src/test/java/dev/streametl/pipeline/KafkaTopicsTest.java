package dev.streametl.pipeline;

import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class KafkaTopicsTest {

    @Test
    void readsANamePartitionsAndTopicConfigs() {
        assertEquals(new KafkaTopics.Topic("postgres.public.customers", 2,
                        Map.of("cleanup.policy", "compact", "min.compaction.lag.ms", "0")),
                KafkaTopics.Topic.parse("  postgres.public.customers partitions=2 cleanup.policy=compact  min.compaction.lag.ms=0"));
    }

    @Test
    void aTopicWithoutPartitionsHasOne() {
        assertEquals(new KafkaTopics.Topic("etl.dlq", 1, Map.of()), KafkaTopics.Topic.parse("etl.dlq"));
    }

    @Test
    void refusesWhatIsNotKeyValue() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> KafkaTopics.Topic.parse("orders partitions 3"));
        assertEquals("topic orders: 'partitions' is not key=value", error.getMessage());
    }
}

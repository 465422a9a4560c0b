package dev.streametl.pipeline;

import java.util.HashMap;
import java.util.Map;

import org.apache.camel.CamelContext;
import org.apache.camel.component.debezium.configuration.EmbeddedDebeziumConfiguration;
import org.apache.camel.component.debezium.postgres.DebeziumPostgresComponent;
import org.apache.camel.component.es.ElasticsearchComponent;
import org.apache.camel.component.kafka.KafkaComponent;
import org.apache.camel.component.kafka.KafkaConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects the components to the services as configured, before any route makes an endpoint: the {@code kafka}
 * component gets the Kafka security settings ({@link KafkaSecurity}), which its endpoints copy, the Kafka endpoints
 * that carry Avro byte-array (de)serializers, and the {@code elasticsearch} component the pipeline's one Elasticsearch
 * client ({@link ElasticsearchConnection}). Called by the configuration that makes the pipeline's beans.
 */
public final class Connections {

    private static final Logger LOG = LoggerFactory.getLogger(Connections.class);

    private Connections() {
    }

    public static void connect(CamelContext context, RecordFormat format, ElasticsearchConnection elasticsearch) {
        KafkaSecurity kafka = KafkaSecurity.from(key -> context.getPropertiesComponent().resolveProperty(key).orElse(null));
        KafkaConfiguration kafkaConfiguration = context.getComponent("kafka", KafkaComponent.class).getConfiguration();
        kafka.applyTo(kafkaConfiguration);
        format.configureEndpoints(context);
        String offsets = context.getPropertiesComponent().resolveProperty("etl.capture.offsets").orElse("file").trim();
        if (offsets.equals("kafka")) {
            keepCaptureOffsetsInKafka(context, kafkaConfiguration);
        } else if (!offsets.equals("file")) {
            throw new IllegalArgumentException("etl.capture.offsets must be file or kafka, not " + offsets);
        }
        context.getComponent("elasticsearch", ElasticsearchComponent.class).setClient(elasticsearch.client());
        LOG.info("Kafka: {}; {}", kafka.secured() ? kafka : "plaintext", elasticsearch);
    }

    /**
     * Debezium's offsets in a compacted topic ({@code etl.capture.offsets-topic}) instead of a file: the Kafka store
     * connects as every Kafka client of the pipeline does (the brokers and security settings of the kafka component).
     * {@link AcknowledgedOffsetStore} still saves them only once Kafka has acknowledged every change before them.
     */
    private static void keepCaptureOffsetsInKafka(CamelContext context, KafkaConfiguration kafka) {
        DebeziumPostgresComponent debezium = context.getComponent("debezium-postgres", DebeziumPostgresComponent.class);
        EmbeddedDebeziumConfiguration capture = debezium.getConfiguration();
        capture.setOffsetStorageTopic(context.getPropertiesComponent().resolveProperty("etl.capture.offsets-topic")
                .orElseThrow(() -> new IllegalArgumentException("etl.capture.offsets-topic is not set")).trim());
        capture.setOffsetStoragePartitions(1);
        capture.setOffsetStorageReplicationFactor(-1); // the broker's default
        Map<String, Object> engine = new HashMap<>(capture.getAdditionalProperties() == null
                ? Map.of() : capture.getAdditionalProperties());
        // this runs before the components' properties are applied: the brokers come from the pipeline's own key
        KafkaSecurity.clientConfig(kafka).forEach((key, value) -> engine.put(String.valueOf(key), String.valueOf(value)));
        engine.put("bootstrap.servers", context.getPropertiesComponent().resolveProperty("etl.kafka.brokers")
                .orElseThrow(() -> new IllegalArgumentException("etl.kafka.brokers is not set")).trim());
        capture.setAdditionalProperties(engine);
        LOG.info("Capture keeps Debezium's offsets in the Kafka topic {}", capture.getOffsetStorageTopic());
    }
}

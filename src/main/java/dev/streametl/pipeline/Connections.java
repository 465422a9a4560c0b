package dev.streametl.pipeline;

import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.component.es.ElasticsearchComponent;
import org.apache.camel.component.kafka.KafkaComponent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects the components to the services as configured, before any route makes an endpoint: the {@code kafka}
 * component gets the Kafka security settings ({@link KafkaSecurity}), which its endpoints copy, and the
 * {@code elasticsearch} component the pipeline's one Elasticsearch client ({@link ElasticsearchConnection}). A
 * {@link CamelConfiguration}, so it runs the same under {@code camel:run} and Camel JBang.
 */
public class Connections implements CamelConfiguration {

    private static final Logger LOG = LoggerFactory.getLogger(Connections.class);

    @Override
    public void configure(CamelContext context) {
        KafkaSecurity kafka = KafkaSecurity.from(key -> context.getPropertiesComponent().resolveProperty(key).orElse(null));
        kafka.applyTo(context.getComponent("kafka", KafkaComponent.class).getConfiguration());
        ElasticsearchConnection elasticsearch = ElasticsearchConnection.of(context);
        context.getComponent("elasticsearch", ElasticsearchComponent.class).setClient(elasticsearch.client());
        LOG.info("Kafka: {}; {}", kafka.secured() ? kafka : "plaintext", elasticsearch);
    }
}

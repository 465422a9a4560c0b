package dev.streametl.pipeline;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.camel.component.kafka.KafkaConfiguration;
import org.apache.kafka.clients.admin.Admin;

/**
 * The Kafka admin clients the batch fences ask ({@link BatchFence}): one per set of brokers, connecting as the
 * endpoints do (the same security settings), made at the first question and closed when the pipeline stops. A bean
 * of the pipeline, under {@value #BEAN}.
 */
public final class KafkaAdmins implements AutoCloseable {

    public static final String BEAN = "etlKafkaAdmins";

    private final Map<String, Admin> byBrokers = new ConcurrentHashMap<>();

    Admin of(KafkaConfiguration kafka) {
        return byBrokers.computeIfAbsent(kafka.getBrokers(), brokers -> KafkaTopics.admin(KafkaSecurity.clientConfig(kafka)));
    }

    @Override
    public void close() {
        byBrokers.values().forEach(admin -> admin.close(Duration.ofSeconds(5)));
        byBrokers.clear();
    }
}

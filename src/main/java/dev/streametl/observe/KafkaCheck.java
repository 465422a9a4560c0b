package dev.streametl.observe;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import dev.streametl.pipeline.KafkaTopics;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

/**
 * Kafka answers: the cluster can be described within the timeout. Camel's own consumer checks do not go DOWN when
 * the broker goes away (a Kafka client just keeps trying to reconnect), hence this one. A client per call: the checks
 * are rare, and a client left open would log its reconnection attempts all the while Kafka is down.
 */
public final class KafkaCheck extends ServiceCheck {

    private final String brokers;

    public KafkaCheck(String brokers, Duration timeout) {
        super("kafka", timeout);
        this.brokers = brokers;
    }

    @Override
    protected String probe(HealthCheckResultBuilder builder) throws Exception {
        builder.detail("brokers", brokers);
        Properties config = new Properties();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        config.put(AdminClientConfig.CLIENT_ID_CONFIG, "streaming-etl-health");
        try (Admin admin = KafkaTopics.admin(config)) { // as every admin client of the pipeline (Camel JBang)
            int nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) timeout.toMillis()))
                    .nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS).size();
            return nodes + " broker(s)";
        }
    }
}

package dev.streametl.observe;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import dev.streametl.pipeline.KafkaRefusal;
import dev.streametl.pipeline.KafkaSecurity;
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

    /** The client settings to check with; null: the pipeline's own (its kafka component's), at each check. */
    private final Properties given;

    /** A check of the brokers the pipeline's kafka component connects to, as it connects (its security settings). */
    public KafkaCheck(Duration timeout) {
        this((Properties) null, timeout);
    }

    /** A check of these brokers, with no security settings. */
    public KafkaCheck(String brokers, Duration timeout) {
        this(brokersOnly(brokers), timeout);
    }

    private KafkaCheck(Properties clientConfig, Duration timeout) {
        super("kafka", timeout);
        this.given = clientConfig;
    }

    private static Properties brokersOnly(String brokers) {
        Properties config = new Properties();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        return config;
    }

    @Override
    protected String probe(HealthCheckResultBuilder builder) throws Exception {
        Properties config = new Properties();
        config.putAll(given != null ? given : KafkaSecurity.clientConfig(getCamelContext()));
        String brokers = String.valueOf(config.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG));
        builder.detail("brokers", brokers);
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        config.put(AdminClientConfig.CLIENT_ID_CONFIG, "streaming-etl-health");
        Admin admin = KafkaTopics.admin(config); // as every admin client of the pipeline (Camel JBang)
        try {
            int nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) timeout.toMillis()))
                    .nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS).size();
            return nodes + " broker(s)";
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.AuthenticationException
                || e.getCause() instanceof org.apache.kafka.common.errors.AuthorizationException) {
                throw new Unfit(KafkaRefusal.describe("Kafka at " + brokers, e.getCause()));
            }
            throw e;
        } finally {
            // bounded: Admin.close() without a limit waits for every pending call, which a broker away can hold up,
            // and a health check must answer within its timeout
            admin.close(java.time.Duration.ZERO);
        }
    }
}

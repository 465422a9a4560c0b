package dev.streametl.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Properties;
import java.util.function.Function;

import org.apache.camel.CamelContext;
import org.apache.camel.component.kafka.KafkaComponent;
import org.apache.camel.component.kafka.KafkaConfiguration;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * How the pipeline authenticates to Kafka, given once ({@code etl.kafka.security-protocol}, {@code .sasl-mechanism},
 * {@code .api-key}, {@code .api-secret} or {@code .api-secret-file}, {@code .truststore}) and used by every client it
 * makes: it is set on the {@code kafka} component, whose endpoints copy it, and {@link #clientConfig(KafkaConfiguration)}
 * gives the same settings to the admin clients (topic creation, the catch-up gate, batch fences, health).
 * <p>
 * Confluent Cloud wants {@code SASL_SSL} with {@code PLAIN}, the API key as user name and its secret as password, and
 * trusts the JVM's certificate authorities. A broker with a certificate of its own CA takes {@code truststore}: a PEM
 * file of that CA. The secret never leaves this class but inside the JAAS setting, which Kafka's clients and Camel both
 * treat as a password (never logged, shown as {@code [hidden]} or masked).
 */
public record KafkaSecurity(String protocol, String mechanism, String apiKey, String apiSecret, String truststore) {

    private static final String PLAIN_LOGIN = "org.apache.kafka.common.security.plain.PlainLoginModule";
    private static final String SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule";

    public KafkaSecurity {
        protocol = protocol == null || protocol.isBlank() ? "PLAINTEXT" : protocol.trim().toUpperCase(Locale.ROOT);
        mechanism = mechanism == null || mechanism.isBlank() ? "PLAIN" : mechanism.trim().toUpperCase(Locale.ROOT);
        apiKey = blankToNull(apiKey);
        apiSecret = blankToNull(apiSecret);
        truststore = blankToNull(truststore);
        if (protocol.startsWith("SASL_") && (apiKey == null || apiSecret == null)) {
            throw new IllegalArgumentException("Kafka: security protocol " + protocol + " needs an API key and secret"
                    + " (etl.kafka.api-key and etl.kafka.api-secret, or env ETL_KAFKA_API_KEY and ETL_KAFKA_API_SECRET)");
        }
    }

    /** The settings as the properties of the pipeline give them ({@code etl.kafka.*}), a secret file read if named. */
    public static KafkaSecurity from(Function<String, String> setting) {
        String secret = blankToNull(setting.apply("etl.kafka.api-secret"));
        String secretFile = blankToNull(setting.apply("etl.kafka.api-secret-file"));
        if (secret == null && secretFile != null) {
            secret = readSecret(Path.of(secretFile), "Kafka API secret");
        }
        return new KafkaSecurity(setting.apply("etl.kafka.security-protocol"), setting.apply("etl.kafka.sasl-mechanism"),
                setting.apply("etl.kafka.api-key"), secret, setting.apply("etl.kafka.truststore"));
    }

    /** Sets these settings on a Kafka configuration (the component's, before any endpoint copies it). */
    public void applyTo(KafkaConfiguration kafka) {
        kafka.setSecurityProtocol(protocol);
        if (protocol.startsWith("SASL_")) {
            kafka.setSaslMechanism(mechanism);
            kafka.setSaslJaasConfig(jaasConfig());
        }
        if (truststore != null) {
            kafka.setSslTruststoreType("PEM");
            kafka.setSslTruststoreLocation(truststore);
        }
    }

    /** Whether anything beyond a plain connection is configured. */
    public boolean secured() {
        return !protocol.equals("PLAINTEXT");
    }

    @Override
    public String toString() {
        return "KafkaSecurity[" + protocol + (protocol.startsWith("SASL_") ? ", " + mechanism + ", key " + apiKey : "")
               + (truststore != null ? ", truststore " + truststore : "") + "]";
    }

    private String jaasConfig() {
        String module = mechanism.startsWith("SCRAM-") ? SCRAM_LOGIN : PLAIN_LOGIN;
        return module + " required username=\"" + quoted(apiKey) + "\" password=\"" + quoted(apiSecret) + "\";";
    }

    /**
     * The settings of a client the pipeline makes itself (an admin client): the brokers and every security setting
     * ({@code security.*}, {@code sasl.*}, {@code ssl.*}) of a camel-kafka configuration, so that it connects exactly as
     * the endpoints do.
     */
    public static Properties clientConfig(KafkaConfiguration kafka) {
        Properties all = kafka.createConsumerProperties();
        Properties config = new Properties();
        all.forEach((key, value) -> {
            String name = String.valueOf(key);
            if (name.startsWith("security.") || name.startsWith("sasl.") || name.startsWith("ssl.")) {
                config.put(name, value);
            }
        });
        if (kafka.getBrokers() != null) { // null until the component's properties are applied
            config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.getBrokers());
        }
        return config;
    }

    /** {@link #clientConfig(KafkaConfiguration)} of the {@code kafka} component of a Camel context. */
    public static Properties clientConfig(CamelContext context) {
        return clientConfig(context.getComponent("kafka", KafkaComponent.class).getConfiguration());
    }

    /** A secret kept in a file (a mounted Kubernetes or Docker secret): its content, without the final line break. */
    static String readSecret(Path file, String what) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the " + what + " from " + file + ": " + e.getMessage(), e);
        }
    }

    private static String quoted(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }
}

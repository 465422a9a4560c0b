package dev.streametl.pipeline;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import org.apache.camel.component.kafka.KafkaConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KafkaSecurityTest {

    @Test
    void anApiKeyAndSecretBecomeTheSaslLoginOfTheEndpointsAndOfTheAdminClients() {
        KafkaConfiguration kafka = new KafkaConfiguration();
        kafka.setBrokers("broker.example:9092");
        KafkaSecurity.from(settings(Map.of("etl.kafka.security-protocol", "sasl_ssl", "etl.kafka.api-key", "KEY1",
                "etl.kafka.api-secret", "se\"cr\\et", "etl.kafka.truststore", "/certs/ca.crt"))::get).applyTo(kafka);

        Properties admin = KafkaSecurity.clientConfig(kafka);

        String jaas = "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"KEY1\""
                      + " password=\"se\\\"cr\\\\et\";";
        assertEquals("SASL_SSL", kafka.getSecurityProtocol());
        assertEquals("PLAIN", kafka.getSaslMechanism());
        assertEquals(jaas, kafka.getSaslJaasConfig());
        assertEquals("broker.example:9092", admin.get("bootstrap.servers"));
        assertEquals("SASL_SSL", admin.get("security.protocol"));
        assertEquals("PLAIN", admin.get("sasl.mechanism"));
        assertEquals(jaas, String.valueOf(admin.get("sasl.jaas.config")));
        assertEquals("PEM", admin.get("ssl.truststore.type"));
        assertEquals("/certs/ca.crt", admin.get("ssl.truststore.location"));
        assertTrue(admin.keySet().stream().map(String::valueOf)
                .allMatch(key -> key.equals("bootstrap.servers") || key.startsWith("security.") || key.startsWith("sasl.")
                                 || key.startsWith("ssl.")), admin.keySet().toString());
    }

    @Test
    void scramMechanismsUseTheScramLoginAndTheSecretMayComeFromAFile(@TempDir Path dir) throws Exception {
        Path secret = Files.writeString(dir.resolve("secret"), "from-a-file\n");
        KafkaConfiguration kafka = new KafkaConfiguration();
        KafkaSecurity.from(settings(Map.of("etl.kafka.security-protocol", "SASL_SSL",
                "etl.kafka.sasl-mechanism", "SCRAM-SHA-512", "etl.kafka.api-key", "etl",
                "etl.kafka.api-secret-file", secret.toString()))::get).applyTo(kafka);

        assertEquals("SCRAM-SHA-512", kafka.getSaslMechanism());
        assertEquals("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"etl\""
                     + " password=\"from-a-file\";", kafka.getSaslJaasConfig());
    }

    @Test
    void theDefaultIsPlaintextWithNothingElseSet() {
        KafkaConfiguration kafka = new KafkaConfiguration();
        KafkaSecurity security = KafkaSecurity.from(settings(Map.of())::get);
        security.applyTo(kafka);

        assertFalse(security.secured());
        assertEquals("PLAINTEXT", kafka.getSecurityProtocol());
        assertNull(kafka.getSaslJaasConfig());
    }

    @Test
    void saslWithoutAKeyOrSecretIsRefusedSayingWhatIsMissing() {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> KafkaSecurity.from(
                settings(Map.of("etl.kafka.security-protocol", "SASL_SSL", "etl.kafka.api-key", "KEY1"))::get));
        assertTrue(refused.getMessage().contains("etl.kafka.api-secret"), refused.getMessage());
    }

    @Test
    void theSecretIsNeverInItsDescription() {
        KafkaSecurity security = KafkaSecurity.from(settings(Map.of("etl.kafka.security-protocol", "SASL_SSL",
                "etl.kafka.api-key", "KEY1", "etl.kafka.api-secret", "s3cr3t-value"))::get);
        assertEquals("KafkaSecurity[SASL_SSL, PLAIN, key KEY1]", security.toString());
    }

    private static Map<String, String> settings(Map<String, String> given) {
        return new HashMap<>(given);
    }
}

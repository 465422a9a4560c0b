package dev.streametl.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry settings ({@code etl.schema-registry.*}): a secret from a file, never shown, never missing. */
class SchemaRegistrySettingsTest {

    @TempDir
    Path tempDir;

    @Test
    void readsTheSecretFromAFileAndNeverShowsIt() throws Exception {
        Path secretFile = Files.writeString(tempDir.resolve("secret"), "s3cr3t-from-file\n");
        Map<String, String> settings = new HashMap<>(Map.of(
                "etl.schema-registry.url", "https://psrc-12345.europe-west3.gcp.confluent.cloud/",
                "etl.schema-registry.api-key", "SRKEY",
                "etl.schema-registry.api-secret-file", secretFile.toString()));

        SchemaRegistry registry = SchemaRegistry.from(settings::get);

        assertEquals("https://psrc-12345.europe-west3.gcp.confluent.cloud", registry.url());
        assertTrue(registry.toString().contains("SRKEY"), registry.toString());
        assertFalse(registry.toString().contains("s3cr3t"), registry.toString());
    }

    @Test
    void aKeyWithoutItsSecretIsRefusedAtStart() {
        Map<String, String> settings = Map.of("etl.schema-registry.url", "https://registry.example.com",
                "etl.schema-registry.api-key", "SRKEY");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SchemaRegistry.from(settings::get));
        assertTrue(e.getMessage().contains("ETL_SCHEMA_REGISTRY_API_SECRET"), e.getMessage());
    }

    @Test
    void anUnreadableCaCertificateSaysWhich() {
        Map<String, String> settings = Map.of("etl.schema-registry.url", "https://registry.example.com",
                "etl.schema-registry.ca-certificate", tempDir.resolve("missing-ca.pem").toString());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> SchemaRegistry.from(settings::get));
        assertTrue(e.getMessage().contains("missing-ca.pem"), e.getMessage());
    }
}

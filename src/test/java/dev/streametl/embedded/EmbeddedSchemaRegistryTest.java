package dev.streametl.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded schema registry is a real Apicurio Registry: it starts, takes an Avro schema through the Confluent API,
 * serves it back by id, and still has it (same id) after a restart on the same data directory. And it is started only
 * for the Avro format, on a local registry URL.
 */
class EmbeddedSchemaRegistryTest {

    private static final Path HOME =
            Path.of(System.getProperty("etl.embedded.schema-registry-home", EmbeddedSchemaRegistry.DEFAULT_HOME.toString()));
    private static final String SCHEMA = "{\"type\":\"record\",\"name\":\"Customer\",\"namespace\":\"test\","
            + "\"fields\":[{\"name\":\"id\",\"type\":\"int\"},{\"name\":\"name\",\"type\":\"string\"}]}";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path tempDir;

    @Test
    @Timeout(400)
    void registersServesAndKeepsSchemas() throws Exception {
        EmbeddedSettings settings = new EmbeddedSettings(tempDir, 0, 0, 0, EmbeddedElasticsearch.DEFAULT_HOME, List.of(),
                false, false, false).withSchemaRegistry(0);
        int id;
        int port;
        try (EmbeddedServices services = EmbeddedServices.start(settings)) {
            EmbeddedSchemaRegistry registry = services.schemaRegistry().orElseThrow();
            port = registry.port();
            assertTrue(registry.url().endsWith(":" + port + "/apis/ccompat/v7"), registry.url());

            HttpResponse<String> registered = HTTP.send(HttpRequest.newBuilder(URI.create(registry.url() + "/subjects/customers-value/versions"))
                    .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("schema", SCHEMA))))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, registered.statusCode(), registered.body());
            id = JSON.readTree(registered.body()).get("id").asInt();

            assertSchemaServed(registry.url(), id);
            assertEquals(List.of("customers-value"), JSON.readValue(get(registry.url() + "/subjects"), List.class));
        }
        assertTrue(Ports.isFree(port), "port " + port + " should be free after close()");

        try (EmbeddedSchemaRegistry again = EmbeddedSchemaRegistry.start(0, settings.schemaRegistryDir(), HOME)) {
            assertSchemaServed(again.url(), id);
        }
    }

    @Test
    void startsOnlyForAvroOnALocalUrl() {
        assertFalse(settings(Map.of()).schemaRegistry(), "JSON needs no registry");

        EmbeddedSettings avro = settings(Map.of("etl.format", "avro"));
        assertTrue(avro.schemaRegistry());
        assertEquals(8081, avro.schemaRegistryPort());
        assertEquals(Path.of("data", "schema-registry"), avro.schemaRegistryDir());

        assertEquals(18081, settings(Map.of("etl.format", "avro", "etl.schema-registry.url", "http://127.0.0.1:18081/apis/ccompat/v7"))
                .schemaRegistryPort());
        assertFalse(settings(Map.of("etl.format", "avro", "etl.schema-registry.url", "https://psrc-12345.europe-west3.gcp.confluent.cloud"))
                .schemaRegistry(), "a remote registry is external");
        assertFalse(settings(Map.of("etl.format", "avro", "etl.schema-registry.api-key", "KEY")).schemaRegistry(),
                "a registry with credentials is external");
    }

    private static EmbeddedSettings settings(Map<String, String> values) {
        DefaultCamelContext camel = new DefaultCamelContext();
        Properties properties = new Properties();
        properties.putAll(values);
        camel.getPropertiesComponent().setInitialProperties(properties);
        return EmbeddedServicesConfiguration.settingsFrom(camel.getPropertiesComponent()::resolveProperty).orElseThrow();
    }

    private static void assertSchemaServed(String url, int id) throws Exception {
        assertEquals(JSON.readTree(SCHEMA), JSON.readTree(JSON.readTree(get(url + "/schemas/ids/" + id)).get("schema").asText()));
    }

    private static String get(String url) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(url)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), url + ": " + response.body());
        return response.body();
    }
}

package dev.streametl.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

import javax.net.ssl.SSLContext;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.avro.Schema;

/**
 * A client of a schema registry's Confluent REST API (Confluent Schema Registry, Confluent Cloud's, Apicurio's
 * {@code /apis/ccompat/v7}): registers Avro schemas under subjects and looks schemas up by id, both cached, since a
 * schema id never changes its meaning. Basic auth with an API key and secret (Confluent Cloud), TLS with a PEM CA.
 * The secret is never logged nor shown by {@link #toString()}.
 */
public final class SchemaRegistry {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final String url;
    private final String apiKey;
    private final String authorization;
    private final HttpClient http;
    private final Map<String, Integer> idsBySubjectAndSchema = new ConcurrentHashMap<>();
    private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();

    /**
     * @param url           the API's base, e.g. http://localhost:8081/apis/ccompat/v7 or https://psrc-xxxx.confluent.cloud
     * @param apiKey        null or blank: no authentication
     * @param caCertificate null: the JVM's own authorities
     */
    public SchemaRegistry(String url, String apiKey, String apiSecret, Path caCertificate) {
        this.url = url.replaceAll("/+$", "");
        this.apiKey = blankToNull(apiKey);
        if (this.apiKey != null && blankToNull(apiSecret) == null) {
            throw new IllegalArgumentException("Schema registry: an API key needs its secret (etl.schema-registry.api-secret"
                    + " or .api-secret-file, env ETL_SCHEMA_REGISTRY_API_SECRET or _FILE)");
        }
        this.authorization = this.apiKey == null ? null : "Basic " + Base64.getEncoder()
                .encodeToString((this.apiKey + ":" + apiSecret).getBytes(StandardCharsets.UTF_8));
        HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(TIMEOUT);
        if (caCertificate != null) {
            client.sslContext(TrustedCertificates.sslContext(caCertificate, "Schema registry"));
        }
        this.http = client.build();
    }

    /** The registry the pipeline's properties name ({@code etl.schema-registry.*}), a secret file read if named. */
    public static SchemaRegistry from(Function<String, String> setting) {
        String secret = blankToNull(setting.apply("etl.schema-registry.api-secret"));
        String secretFile = blankToNull(setting.apply("etl.schema-registry.api-secret-file"));
        if (secret == null && secretFile != null) {
            secret = KafkaSecurity.readSecret(Path.of(secretFile), "schema registry API secret");
        }
        String ca = blankToNull(setting.apply("etl.schema-registry.ca-certificate"));
        return new SchemaRegistry(setting.apply("etl.schema-registry.url"), setting.apply("etl.schema-registry.api-key"),
                secret, ca == null ? null : Path.of(ca));
    }

    /**
     * The id of {@code schema} under {@code subject}, registering it (a new version) if the subject does not have it
     * yet. A schema the subject's compatibility rule refuses is an {@link IncompatibleSchemaException}.
     */
    public int register(String subject, Schema schema) {
        return idsBySubjectAndSchema.computeIfAbsent(subject + '\n' + schema, key -> {
            String body = json(Map.of("schema", schema.toString()));
            JsonNode answer = send(request("/subjects/" + encode(subject) + "/versions")
                    .POST(HttpRequest.BodyPublishers.ofString(body)), "register a schema under " + subject);
            int id = answer.get("id").asInt();
            schemasById.putIfAbsent(id, schema);
            return id;
        });
    }

    /** The schema registered with this id. */
    public Schema schema(int id) {
        Schema known = schemasById.get(id);
        if (known != null) {
            return known;
        }
        JsonNode answer = send(request("/schemas/ids/" + id).GET(), "read schema " + id);
        Schema schema = new Schema.Parser().parse(answer.get("schema").asText());
        schemasById.putIfAbsent(id, schema);
        return schema;
    }

    /** The registry's subjects. */
    public List<String> subjects() {
        List<String> subjects = new ArrayList<>();
        send(request("/subjects").GET(), "list subjects").forEach(subject -> subjects.add(subject.asText()));
        return subjects;
    }

    /** The versions registered under a subject, oldest first. */
    public List<Integer> versions(String subject) {
        List<Integer> versions = new ArrayList<>();
        send(request("/subjects/" + encode(subject) + "/versions").GET(), "list versions of " + subject)
                .forEach(version -> versions.add(version.asInt()));
        return versions;
    }

    public String url() {
        return url;
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url + path))
                .timeout(TIMEOUT)
                .header("Accept", CONTENT_TYPE)
                .header("Content-Type", CONTENT_TYPE);
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return request;
    }

    private JsonNode send(HttpRequest.Builder request, String what) {
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException("Schema registry " + url + " unreachable (" + what + "): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while asking the schema registry to " + what, e);
        }
        int status = response.statusCode();
        if (status == 409) {
            throw new IncompatibleSchemaException("Schema registry " + url + " refused to " + what
                    + ": incompatible with the subject's earlier versions (" + response.body() + ")");
        }
        if (status == 404 && what.startsWith("read schema")) {
            throw new InvalidRecordException("Schema registry " + url + " has no schema " + what.substring("read schema ".length()));
        }
        if (status == 401 || status == 403) {
            throw new IllegalStateException("Schema registry " + url + " refused the credentials (etl.schema-registry.api-key"
                    + (apiKey != null ? " " + apiKey : "") + " and its secret): HTTP " + status);
        }
        if (status / 100 != 2) {
            throw new IllegalStateException("Schema registry " + url + " could not " + what + ": HTTP " + status + " " + response.body());
        }
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new IllegalStateException("Schema registry " + url + " answered what is not JSON: " + response.body(), e);
        }
    }

    /** A schema that a subject's compatibility rule refuses: the record that needed it cannot be written. */
    public static final class IncompatibleSchemaException extends InvalidRecordException {
        private static final long serialVersionUID = 1L;

        IncompatibleSchemaException(String message) {
            super(message);
        }
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String encode(String subject) {
        return URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }

    /** Without the secret. */
    @Override
    public String toString() {
        return "SchemaRegistry[" + url + (apiKey != null ? ", key " + apiKey : "") + "]";
    }
}

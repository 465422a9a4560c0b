package dev.streametl.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The explicit mappings of the pipeline's indexes, installed as index templates at start-up (PUT
 * {@code _index_template/NAME}), so that codes, memberships and names are keywords and prices and ages numbers from
 * the first document on, whatever ES would have guessed. A template applies when its index is created: an index that
 * already exists keeps its mapping.
 * <p>
 * Each template is the classpath resource {@code elasticsearch/NAME.json}.
 */
public final class IndexTemplates {

    private static final Logger LOG = LoggerFactory.getLogger(IndexTemplates.class);

    private IndexTemplates() {
    }

    /** Installs (or replaces) the named templates on the cluster at {@code baseUrl}, e.g. http://localhost:9200. */
    public static void install(String baseUrl, List<String> names) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        for (String name : names) {
            String body = resource("elasticsearch/" + name + ".json");
            HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + "/_index_template/" + name))
                    .timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(body))
                    .build();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("Elasticsearch refused index template " + name + " (HTTP "
                        + response.statusCode() + "): " + response.body());
            }
            LOG.info("Index template {} installed on {}", name, baseUrl);
        }
    }

    private static String resource(String path) throws IOException {
        try (InputStream in = IndexTemplates.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalArgumentException("No index template " + path + " on the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}

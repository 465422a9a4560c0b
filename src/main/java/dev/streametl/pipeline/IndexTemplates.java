package dev.streametl.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
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

    /** Installs (or replaces) the named templates on the cluster of {@code elasticsearch}. */
    public static void install(ElasticsearchConnection elasticsearch, List<String> names) throws IOException {
        for (String name : names) {
            ElasticsearchConnection.Answer answer;
            try {
                answer = elasticsearch.call("PUT", "/_index_template/" + name, resource("elasticsearch/" + name + ".json"));
            } catch (IOException e) {
                throw new IllegalStateException(ElasticsearchConnection.unreachable(elasticsearch, e)
                        + " (while installing index template " + name + ")", e);
            }
            if (answer.status() != 200) {
                throw new IllegalStateException(elasticsearch + (answer.refused()
                        ? " refused the pipeline's credentials (etl.elasticsearch.api-key, or username and password): "
                        : " refused index template " + name + ": ") + answer.describe());
            }
            LOG.info("Index template {} installed on {}", name, elasticsearch.url());
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

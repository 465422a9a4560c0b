package dev.streametl;

import dev.streametl.observe.JolokiaAccess;
import dev.streametl.observe.ManagementAccess;
import org.apache.camel.main.Main;

/**
 * Runs the pipeline: the routes in {@code routes/}, configured by {@code application.properties}.
 * <p>
 * Unless told otherwise ({@code etl.embedded.enabled=false}), PostgreSQL, Kafka and Elasticsearch are started
 * first on the configured local addresses, so that one command brings the whole pipeline up: that is
 * {@link dev.streametl.embedded.EmbeddedServicesConfiguration}, found by the package scan (and by Camel JBang).
 */
public final class App {

    private App() {
    }

    public static void main(String... args) throws Exception {
        Main main = new Main(App.class);
        // before anything starts: credentials for a management server beyond localhost, or a refusal
        main.addMainListener(new ManagementAccess());
        // Jolokia read-only, unless writes are allowed (behind those credentials)
        main.addMainListener(new JolokiaAccess());
        main.run(args);
    }
}

package dev.streametl;

import dev.streametl.observe.JolokiaAccess;
import dev.streametl.observe.ManagementAccess;
import org.apache.camel.main.Main;

/**
 * Runs the pipeline: the routes in {@code routes/}, configured by {@code application.properties}.
 * <p>
 * In a dev run ({@code ./mvnw compile camel:run}, Camel JBang), unless told otherwise ({@code etl.embedded.enabled=false}),
 * PostgreSQL, Kafka and Elasticsearch are started first on the configured local addresses, so that one command brings the
 * whole pipeline up: that is {@code dev.streametl.embedded.EmbeddedServicesConfiguration} (src/dev/java), found by the
 * package scan (and by Camel JBang). The production jar ({@code ./mvnw package}, {@code java -jar}) does not hold it: it
 * runs on the servers it is configured for.
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

package dev.streametl;

import dev.streametl.embedded.EmbeddedServicesListener;
import dev.streametl.observe.ManagementAccess;
import org.apache.camel.main.Main;

/**
 * Runs the pipeline: the routes in {@code routes/}, configured by {@code application.properties}.
 * <p>
 * Unless told otherwise ({@code etl.embedded.enabled=false}), PostgreSQL, Kafka and Elasticsearch are started
 * first on the configured local addresses, so that one command brings the whole pipeline up.
 */
public final class App {

    private App() {
    }

    public static void main(String... args) throws Exception {
        Main main = new Main(App.class);
        try (EmbeddedServicesListener embeddedServices = new EmbeddedServicesListener()) {
            main.addMainListener(new ManagementAccess()); // first: a refusal comes before any server is started
            main.addMainListener(embeddedServices);
            main.run(args);
        }
    }
}

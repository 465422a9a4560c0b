package dev.streametl.embedded;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What {@link EmbeddedServices} starts, and where. Ports may be 0 for a free port. Each service keeps its data in a
 * sub-directory of {@code dataDir} ({@code postgres}, {@code kafka}, {@code elasticsearch}), so a second run
 * finds the first run's data.
 *
 * @param elasticsearchHome the unpacked Elasticsearch distribution (only read)
 * @param initScripts       SQL files run, in order, when the PostgreSQL database is first created
 * @param schemaRegistryHome the built Apicurio Registry (only read)
 */
public record EmbeddedSettings(
        Path dataDir,
        int postgresPort,
        int kafkaPort,
        int elasticsearchPort,
        Path elasticsearchHome,
        List<Path> initScripts,
        boolean postgres,
        boolean kafka,
        boolean elasticsearch,
        int schemaRegistryPort,
        Path schemaRegistryHome,
        boolean schemaRegistry) {

    public EmbeddedSettings {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(elasticsearchHome, "elasticsearchHome");
        Objects.requireNonNull(schemaRegistryHome, "schemaRegistryHome");
        initScripts = initScripts == null ? List.of() : List.copyOf(initScripts);
    }

    /** Without a schema registry (the JSON format needs none). */
    public EmbeddedSettings(Path dataDir, int postgresPort, int kafkaPort, int elasticsearchPort, Path elasticsearchHome,
                            List<Path> initScripts, boolean postgres, boolean kafka, boolean elasticsearch) {
        this(dataDir, postgresPort, kafkaPort, elasticsearchPort, elasticsearchHome, initScripts, postgres, kafka,
                elasticsearch, 0, EmbeddedSchemaRegistry.DEFAULT_HOME, false);
    }

    /** The same, with a schema registry as well, on {@code port} (0: a free port). */
    public EmbeddedSettings withSchemaRegistry(int port) {
        return new EmbeddedSettings(dataDir, postgresPort, kafkaPort, elasticsearchPort, elasticsearchHome, initScripts,
                postgres, kafka, elasticsearch, port, schemaRegistryHome, true);
    }

    public Path postgresDir() {
        return dataDir.resolve("postgres");
    }

    public Path kafkaDir() {
        return dataDir.resolve("kafka");
    }

    public Path elasticsearchDir() {
        return dataDir.resolve("elasticsearch");
    }

    public Path schemaRegistryDir() {
        return dataDir.resolve("schema-registry");
    }
}

package dev.streametl.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * Finds a Java runtime new enough for Elasticsearch, which we may run on an older JVM (this project targets 17).
 * (Public for the tests, which compile a small Elasticsearch plugin with it.)
 */
public final class JavaRuntimes {

    static final int ELASTICSEARCH_MINIMUM = 21;
    private static final Path JVM_ROOT = Path.of("/usr/lib/jvm");

    private JavaRuntimes() {
    }

    /**
     * In order: $ES_JAVA_HOME as given, $JAVA_HOME if it is 21+, the running JVM if it is 21+, the newest 21+ JDK
     * under /usr/lib/jvm.
     */
    public static Path forElasticsearch() {
        Map<String, String> env = System.getenv();
        String esJavaHome = env.get("ES_JAVA_HOME");
        if (esJavaHome != null && !esJavaHome.isBlank()) {
            Path home = Path.of(esJavaHome);
            if (!Files.isExecutable(home.resolve("bin/java"))) {
                throw new IllegalStateException("ES_JAVA_HOME=" + esJavaHome + " has no bin/java: point it at a JDK "
                        + ELASTICSEARCH_MINIMUM + "+ installation directory.");
            }
            return home;
        }
        String javaHome = env.get("JAVA_HOME");
        if (javaHome != null && !javaHome.isBlank() && isSuitable(Path.of(javaHome))) {
            return Path.of(javaHome);
        }
        if (Runtime.version().feature() >= ELASTICSEARCH_MINIMUM) {
            return Path.of(System.getProperty("java.home"));
        }
        return newestUnder(JVM_ROOT).orElseThrow(() -> new IllegalStateException(
                "Elasticsearch 9 needs Java " + ELASTICSEARCH_MINIMUM + " or newer, and none was found (looked at"
                        + " $ES_JAVA_HOME, $JAVA_HOME, the running Java " + Runtime.version().feature() + " and "
                        + JVM_ROOT + "/*). Install a JDK " + ELASTICSEARCH_MINIMUM + "+, for example Eclipse Temurin 21"
                        + " (https://adoptium.net, or apt-get install temurin-21-jdk from packages.adoptium.net), then"
                        + " set ES_JAVA_HOME to its directory, e.g. export ES_JAVA_HOME=/usr/lib/jvm/temurin-21-jdk-amd64."
                        + " Or set etl.embedded.enabled=false / a non-loopback etl.elasticsearch.url to use an"
                        + " external Elasticsearch."));
    }

    private static Optional<Path> newestUnder(Path root) {
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> homes = Files.list(root)) {
            return homes.filter(JavaRuntimes::isSuitable)
                    .max(Comparator.comparingInt((Path home) -> featureVersion(home).orElse(0))
                            .thenComparing(Path::toString));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root, e);
        }
    }

    private static boolean isSuitable(Path home) {
        return Files.isExecutable(home.resolve("bin/java"))
                && featureVersion(home).orElse(0) >= ELASTICSEARCH_MINIMUM;
    }

    /** The feature release from the JDK's {@code release} file: JAVA_VERSION="21.0.5" gives 21, "1.8.0_392" gives 8. */
    static OptionalInt featureVersion(Path home) {
        Path release = home.resolve("release");
        if (!Files.isRegularFile(release)) {
            return OptionalInt.empty();
        }
        Properties properties = new Properties();
        try (var reader = Files.newBufferedReader(release)) {
            properties.load(reader);
        } catch (IOException | IllegalArgumentException e) {
            return OptionalInt.empty();
        }
        String version = properties.getProperty("JAVA_VERSION", "").replace("\"", "").trim();
        String[] parts = version.split("[._+-]");
        try {
            int first = Integer.parseInt(parts[0]);
            return OptionalInt.of(first == 1 && parts.length > 1 ? Integer.parseInt(parts[1]) : first);
        } catch (NumberFormatException e) {
            return OptionalInt.empty();
        }
    }
}

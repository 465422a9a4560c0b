package dev.streametl;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import dev.streametl.pipeline.DeadLetter;
import dev.streametl.pipeline.ElasticsearchBulk;
import dev.streametl.pipeline.KafkaRecords;
import dev.streametl.pipeline.KafkaRefusal;
import dev.streametl.pipeline.TableTruncation;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The documentation and the configuration agree: every {@code etl.*} property of {@code application.properties} is in
 * the configuration reference, and every {@code etl.*} name the README and the docs mention exists (as a property, a
 * family of properties such as {@code etl.kafka.topic.*}, a header the pipeline writes, or the dead letter topic).
 */
class DocsTest {

    /** A name in backticks, with the shorthand of the tables: {@code `etl.a.b` / `.c`} also names {@code etl.a.c}. */
    private static final Pattern NAME = Pattern.compile("`((?:etl|camel)\\.[a-z0-9.*-]+)`((?:\\s*/\\s*`\\.[a-z0-9-]+`)*)");
    private static final Pattern SHORT = Pattern.compile("`\\.([a-z0-9-]+)`");
    /**
     * What the docs name under etl.* that is not a property of the pipeline: the headers it writes, the dead letter
     * topic, and the settings of bin/hawtio's launcher (where to find the pipeline's Jolokia).
     */
    private static final Set<String> NOT_PROPERTIES = Set.of(DeadLetter.ERROR, DeadLetter.SOURCE_TOPIC,
            DeadLetter.SOURCE_PARTITION, DeadLetter.SOURCE_OFFSET, DeadLetter.ROUTE, KafkaRecords.VERSION,
            KafkaRefusal.ORIGINAL_SIZE, ElasticsearchBulk.INDEX, TableTruncation.TRUNCATED, "etl.dlq", "etl.management.host", "etl.management.port");

    @Test
    void everyEtlPropertyIsDocumentedInTheConfigurationReference() throws IOException {
        Set<String> documented = names(Files.readString(Path.of("docs/configuration.md")));
        Set<String> missing = new TreeSet<>();
        for (String key : properties()) {
            if (key.startsWith("etl.") && !covered(key, documented)) {
                missing.add(key);
            }
        }
        assertEquals(Set.of(), missing, "etl.* properties missing from docs/configuration.md");
    }

    @Test
    void everyEtlNameTheDocsMentionExists() throws IOException {
        Set<String> keys = properties();
        Set<String> unknown = new TreeSet<>();
        for (Path page : pages()) {
            for (String name : names(Files.readString(page))) {
                if (name.startsWith("etl.") && !NOT_PROPERTIES.contains(name) && !exists(name, keys)) {
                    unknown.add(page + ": " + name);
                }
            }
        }
        assertEquals(Set.of(), unknown, "names in the docs that are no property of application.properties");
    }

    private static Set<String> properties() throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(Path.of("application.properties"))) {
            properties.load(reader);
        }
        return new TreeSet<>(properties.stringPropertyNames());
    }

    private static List<Path> pages() throws IOException {
        List<Path> pages = new ArrayList<>(List.of(Path.of("README.md")));
        try (Stream<Path> docs = Files.list(Path.of("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        return pages;
    }

    /** The property names a page mentions, the table shorthand expanded. */
    static Set<String> names(String markdown) {
        Set<String> names = new TreeSet<>();
        Matcher name = NAME.matcher(markdown);
        while (name.find()) {
            String full = name.group(1).replaceAll("\\.$", "");
            names.add(full);
            Matcher shorthand = SHORT.matcher(name.group(2));
            String parent = full.substring(0, full.lastIndexOf('.'));
            while (shorthand.find()) {
                names.add(parent + "." + shorthand.group(1));
            }
        }
        return names;
    }

    private static boolean covered(String key, Set<String> documented) {
        return documented.contains(key) || documented.stream()
                .anyMatch(name -> name.endsWith(".*") && key.startsWith(name.substring(0, name.length() - 1)));
    }

    private static boolean exists(String name, Set<String> keys) {
        if (name.endsWith(".*")) {
            String prefix = name.substring(0, name.length() - 1);
            return keys.stream().anyMatch(key -> key.startsWith(prefix));
        }
        return keys.contains(name);
    }
}

package dev.streametl;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import dev.streametl.embedded.JavaRuntimes;

/**
 * The Elasticsearch plugin {@code security-index-analysis} (its source: src/test/resources/elasticsearch-plugin/): the
 * integ-test distribution lacks the analysis-common module, whose components the .security index's settings name
 * (pattern_capture, uax_url_email, lowercase, unique); without them Elasticsearch cannot create that index, so no API
 * key can be made ("Unknown filter type [pattern_capture] for [email]").
 *
 * <p>Compiled at test time with the Java that runs Elasticsearch (its jars need Java 21, the tests run on 17), once,
 * kept under target/. Elasticsearch loads plugins from its home only, and the shared distribution must stay as it is
 * for the other tests: so the secured server gets a home of its own, symbolic links to the distribution's folders
 * with a plugins folder that holds this plugin.
 */
final class SecurityIndexAnalysis {

    private static final String PLUGIN = "security-index-analysis";
    private static final String SOURCE = "/elasticsearch-plugin/" + PLUGIN + "/";
    private static final String CLASS_FILE = "SecurityIndexAnalysisPlugin.java";
    private static final String DESCRIPTOR = "plugin-descriptor.properties";

    private SecurityIndexAnalysis() {
    }

    /** An Elasticsearch home at {@code home}: the distribution's folders, linked, and a plugins folder with the plugin. */
    static Path homeWithPlugin(Path distribution, Path home) throws IOException, InterruptedException {
        Path plugin = build(distribution);
        Path dist = distribution.toAbsolutePath().normalize();
        Files.createDirectories(home);
        try (Stream<Path> entries = Files.list(dist)) {
            for (Path entry : entries.toList()) {
                String name = entry.getFileName().toString();
                Path link = home.resolve(name);
                if (name.equals("config")) {
                    // copied, not linked: EmbeddedElasticsearch copies it in turn, and a walk does not enter a link
                    copyTree(entry, link);
                } else if (!name.equals("plugins") && !Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.createSymbolicLink(link, entry);
                }
            }
        }
        Path installed = Files.createDirectories(home.resolve("plugins").resolve(PLUGIN));
        try (Stream<Path> files = Files.list(plugin)) {
            for (Path file : files.toList()) {
                Files.copy(file, installed.resolve(file.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return home;
    }

    /** The plugin folder (jar and descriptor) under target/, built unless it already is from the same source. */
    private static Path build(Path distribution) throws IOException, InterruptedException {
        String source = resource(CLASS_FILE);
        String descriptor = resource(DESCRIPTOR);
        Path target = distribution.toAbsolutePath().normalize().getParent().resolve(PLUGIN + "-plugin");
        Path built = target.resolve("plugin");
        Path builtFrom = target.resolve(CLASS_FILE);
        if (Files.isRegularFile(builtFrom) && Files.readString(builtFrom).equals(source)
            && Files.isRegularFile(built.resolve(PLUGIN + ".jar"))) {
            return built;
        }
        Path work = Files.createTempDirectory(target.getParent(), PLUGIN + "-build");
        Path sourceFile = work.resolve("src").resolve(CLASS_FILE);
        Files.createDirectories(sourceFile.getParent());
        Files.writeString(sourceFile, source);
        Path classes = work.resolve("classes");
        Path javac = JavaRuntimes.forElasticsearch().resolve("bin/javac");
        if (!Files.isExecutable(javac)) {
            throw new IllegalStateException("No javac at " + javac + ": the Elasticsearch plugin the secured server needs is"
                    + " compiled with the Java that runs Elasticsearch (21+), which must be a JDK");
        }
        Process compile = new ProcessBuilder(javac.toString(), "--release", "21", "-proc:none", "-nowarn",
                "-cp", distribution.toAbsolutePath().resolve("lib") + "/*", "-d", classes.toString(), sourceFile.toString())
                .redirectErrorStream(true).start();
        String output = new String(compile.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!compile.waitFor(2, TimeUnit.MINUTES) || compile.exitValue() != 0) {
            compile.destroyForcibly();
            throw new IllegalStateException("Compiling the Elasticsearch plugin " + PLUGIN + " failed:\n" + output);
        }
        Path plugin = Files.createDirectories(work.resolve("plugin"));
        try (OutputStream file = Files.newOutputStream(plugin.resolve(PLUGIN + ".jar"));
             JarOutputStream jar = new JarOutputStream(file);
             Stream<Path> classFiles = Files.walk(classes)) {
            for (Path classFile : classFiles.filter(Files::isRegularFile).toList()) {
                jar.putNextEntry(new JarEntry(classes.relativize(classFile).toString().replace('\\', '/')));
                jar.write(Files.readAllBytes(classFile));
                jar.closeEntry();
            }
        }
        Files.writeString(plugin.resolve(DESCRIPTOR), descriptor);
        Files.writeString(work.resolve(CLASS_FILE), source);
        // replace the previous build whole
        deleteTree(target);
        Files.move(work, target, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(target.resolve("src"));
        deleteTree(target.resolve("classes"));
        return built;
    }

    private static void copyTree(Path source, Path target) throws IOException {
        try (Stream<Path> paths = Files.walk(source)) {
            for (Path path : paths.toList()) {
                Path destination = target.resolve(source.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    Files.createDirectories(destination);
                } else {
                    Files.copy(path, destination, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static String resource(String name) throws IOException {
        try (var in = SecurityIndexAnalysis.class.getResourceAsStream(SOURCE + name)) {
            if (in == null) {
                throw new IllegalStateException("Test resource " + SOURCE + name + " is missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}

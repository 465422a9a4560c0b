package dev.streametl.observe;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import org.apache.camel.main.HttpManagementServerConfigurationProperties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ManagementAccessTest {

    @TempDir
    Path dir;

    final Map<String, String> properties = new HashMap<>(Map.of("camel.management.enabled", "true"));
    final HttpManagementServerConfigurationProperties server = new HttpManagementServerConfigurationProperties(null);

    @Test
    void localhostNeedsNoCredentials() {
        properties.put("camel.management.host", "localhost");

        ManagementAccess.apply(this::property, server);

        assertFalse(server.isAuthenticationEnabled());
    }

    @Test
    void refusesToListenBeyondLocalhostWithoutCredentials() {
        properties.put("camel.management.host", "0.0.0.0");

        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> ManagementAccess.apply(this::property, server));

        assertTrue(refused.getMessage().contains("etl.management.password"), refused.getMessage());
    }

    @Test
    void aPasswordTurnsBasicAuthenticationOnWithAUsersFileOnlyItsOwnerReads() throws Exception {
        properties.put("camel.management.host", "0.0.0.0");
        properties.put("etl.management.user", "ops");
        properties.put("etl.management.password", "s3cret");
        properties.put("etl.management.users-file", dir.resolve("state/users.properties").toString());

        ManagementAccess.apply(this::property, server);

        assertTrue(server.isAuthenticationEnabled());
        Path users = Path.of(server.getBasicPropertiesFile());
        assertEquals(dir.resolve("state/users.properties"), users);
        assertTrue(Files.readString(users).contains("user.ops = s3cret,admin\n"), Files.readString(users));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(users)));
    }

    @Test
    void camelsOwnAuthenticationKeysAreEnoughToListenBeyondLocalhost() {
        properties.put("camel.management.host", "0.0.0.0");
        properties.put("camel.management.authentication-enabled", "true");

        ManagementAccess.apply(this::property, server);
    }

    @Test
    void loopbackNamesAndAddresses() {
        assertTrue(ManagementAccess.isLoopback("localhost"));
        assertTrue(ManagementAccess.isLoopback("127.0.0.1"));
        assertTrue(ManagementAccess.isLoopback("::1"));
        assertFalse(ManagementAccess.isLoopback("0.0.0.0"));
    }

    @Test
    void withoutTheMainListenerAsUnderCamelJBangTheRuleHoldsAsAConfiguration() {
        properties.put("camel.management.host", "0.0.0.0");

        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> new ManagementAccess().configure(context()));
        assertTrue(refused.getMessage().contains("without credentials. Set etl.management.password"), refused.getMessage());

        properties.put("etl.management.password", "s3cret"); // a password it can no longer apply: refused, saying so
        refused = assertThrows(IllegalStateException.class, () -> new ManagementAccess().configure(context()));
        assertTrue(refused.getMessage().contains("not under Camel JBang"), refused.getMessage());

        properties.put("camel.management.host", "localhost");
        new ManagementAccess().configure(context());
    }

    @Test
    void onceTheMainListenerHasAppliedTheRuleTheConfigurationLeavesItAlone() {
        properties.put("camel.management.host", "0.0.0.0");
        org.apache.camel.CamelContext context = context();
        context.getGlobalOptions().put(ManagementAccess.APPLIED, "true");

        new ManagementAccess().configure(context);
    }

    private org.apache.camel.CamelContext context() {
        org.apache.camel.CamelContext context = new org.apache.camel.impl.DefaultCamelContext();
        java.util.Properties initial = new java.util.Properties();
        initial.putAll(properties);
        context.getPropertiesComponent().setInitialProperties(initial);
        return context;
    }

    private Optional<String> property(String key) {
        return Optional.ofNullable(properties.get(key));
    }
}

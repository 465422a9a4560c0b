package dev.streametl.observe;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Base64;

import org.apache.camel.component.platform.http.plugin.DefaultJolokiaPlatformHttpPlugin;
import org.apache.camel.main.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JolokiaAccessTest {

    static final String GC = "/exec/java.lang:type=Memory/gc()";
    static final String READ = "/read/java.lang:type=Runtime/Name";

    final Map<String, String> properties = new HashMap<>();

    @TempDir
    Path dir;

    @Test
    void readOnlyByDefault() {
        assertFalse(JolokiaAccess.writesAllowed(this::property));
    }

    @Test
    void writesOnlyWithAPassword() {
        properties.put("etl.management.jolokia-writes", "true");
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> JolokiaAccess.writesAllowed(this::property));
        assertTrue(refused.getMessage().contains("etl.management.password"), refused.getMessage());

        properties.put("etl.management.password", "s3cret");
        assertTrue(JolokiaAccess.writesAllowed(this::property));
    }

    @Test
    void theReadOnlyPolicyRefusesOperationsTheWritesPolicyAllows() throws Exception {
        String readOnly = call(JolokiaAccess.pluginWithPolicy(JolokiaAccess.POLICY), GC);
        assertTrue(readOnly.contains("\"status\":403"), readOnly);
        assertTrue(call(JolokiaAccess.pluginWithPolicy(JolokiaAccess.POLICY), READ).contains("\"status\":200"));

        String writes = call(JolokiaAccess.pluginWithPolicy(JolokiaAccess.WRITES_POLICY), GC);
        assertTrue(writes.contains("\"status\":200"), writes);
    }

    @Test
    void theManagementServerServesJolokiaWithThePolicyChosen() throws Exception {
        assertTrue(exec(Map.of()).contains("\"status\":403"), "read-only by default");
        String writes = exec(Map.of("etl.management.jolokia-writes", "true", "etl.management.password", "s3cret"));
        assertTrue(writes.contains("\"status\":200"), writes);
    }

    /** An operation through the management server of a camel-main with no routes, set up as App sets it up. */
    private String exec(Map<String, String> settings) throws Exception {
        int port = dev.streametl.embedded.EmbeddedServices.freePort();
        Main main = new Main();
        main.setPropertyPlaceholderLocations("classpath:none.properties;optional=true");
        main.addOverrideProperty("camel.management.enabled", "true");
        main.addOverrideProperty("camel.management.jolokia-enabled", "true");
        main.addOverrideProperty("camel.management.host", "localhost");
        main.addOverrideProperty("camel.management.port", String.valueOf(port));
        main.addOverrideProperty("etl.management.users-file", dir.resolve("users-" + port).toString());
        settings.forEach(main::addOverrideProperty);
        main.addMainListener(new ManagementAccess());
        main.addMainListener(new JolokiaAccess());
        main.start();
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/observe/jolokia" + GC))
                    .header("Authorization", "Basic " + Base64.getEncoder().encodeToString("admin:s3cret".getBytes()))
                    .build();
            return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString()).body();
        } finally {
            main.stop();
        }
    }

    private static String call(DefaultJolokiaPlatformHttpPlugin plugin, String path) throws Exception {
        plugin.start();
        try {
            return plugin.getJolokiaRequestHandler().handleGetRequest(path, path, Map.of()).toString();
        } finally {
            plugin.stop();
        }
    }

    private Optional<String> property(String key) {
        return Optional.ofNullable(properties.get(key));
    }
}

package dev.streametl.observe;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import org.apache.camel.component.platform.http.plugin.DefaultJolokiaPlatformHttpPlugin;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JolokiaAccessTest {

    static final String GC = "/exec/java.lang:type=Memory/gc()";
    static final String READ = "/read/java.lang:type=Runtime/Name";

    final Map<String, String> properties = new HashMap<>();

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

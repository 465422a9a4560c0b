package dev.streametl.observe;

import java.io.InputStream;
import java.net.URL;
import java.util.Optional;
import java.util.function.Function;

import org.apache.camel.component.platform.http.plugin.DefaultJolokiaPlatformHttpPlugin;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.MainListenerSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What Jolokia on the management server allows. Read-only by default: Camel's Jolokia plugin applies
 * {@code jolokia-access.xml} from the classpath (reads, lists, searches, and the operations Hawtio calls to show the
 * routes; no write, no other operation). With {@code etl.management.jolokia-writes=true} it applies
 * {@code jolokia-access-writes.xml} (everything, stopping routes included), and only when the management server asks
 * for credentials ({@code etl.management.password}, or Camel's own authentication): otherwise the pipeline refuses to
 * start. A Jolokia policy knows nothing of users, so writes are all or nothing: whoever has the credentials has them.
 * <p>
 * Camel's plugin has no setting for its policy file: it looks up {@code classpath:/jolokia-access.xml}, through the
 * thread's context class loader first. So, for writes, the plugin is made here with a context class loader that answers
 * that name with the writes policy, and bound as the {@code jolokia} plugin, which the management server takes before
 * its own. A main listener, because the management server is set up while camel-main configures itself.
 */
public class JolokiaAccess extends MainListenerSupport {

    static final String POLICY = "jolokia-access.xml";
    static final String WRITES_POLICY = "jolokia-access-writes.xml";
    private static final Logger LOG = LoggerFactory.getLogger(JolokiaAccess.class);

    @Override
    public void beforeConfigure(BaseMainSupport main) {
        if (writesAllowed(main.getCamelContext().getPropertiesComponent()::resolveProperty)) {
            main.getCamelContext().getRegistry().bind("jolokia", pluginWithPolicy(WRITES_POLICY));
            LOG.info("Jolokia allows writes and every operation ({}), behind the management credentials", WRITES_POLICY);
        }
        // otherwise Camel's own plugin, with the read-only policy
    }

    /** Whether Jolokia may write: only when asked to, and with credentials on the management server, or a refusal. */
    static boolean writesAllowed(Function<String, Optional<String>> properties) {
        if (!ManagementAccess.flag(properties, "etl.management.jolokia-writes")) {
            return false;
        }
        if (ManagementAccess.password(properties).isEmpty() && !ManagementAccess.camelAuthentication(properties)) {
            throw new IllegalStateException("etl.management.jolokia-writes=true lets whoever reaches the management server"
                    + " stop routes or the pipeline: set a password too (etl.management.password, env"
                    + " ETL_MANAGEMENT_PASSWORD), or keep Jolokia read-only");
        }
        return true;
    }

    /** Camel's Jolokia plugin, made to read the given policy where it looks for {@value #POLICY}. */
    static DefaultJolokiaPlatformHttpPlugin pluginWithPolicy(String policy) {
        Thread thread = Thread.currentThread();
        ClassLoader original = thread.getContextClassLoader();
        thread.setContextClassLoader(new PolicyLoader(JolokiaAccess.class.getClassLoader(), policy));
        try {
            return new DefaultJolokiaPlatformHttpPlugin();
        } finally {
            thread.setContextClassLoader(original);
        }
    }

    /** Answers {@value #POLICY} with another resource, everything else as its parent does. */
    private static final class PolicyLoader extends ClassLoader {

        private final String policy;

        PolicyLoader(ClassLoader parent, String policy) {
            super(parent);
            this.policy = policy;
        }

        private String rename(String name) {
            return name.equals(POLICY) || name.equals("/" + POLICY) ? policy : name;
        }

        @Override
        public URL getResource(String name) {
            return super.getResource(rename(name));
        }

        @Override
        public InputStream getResourceAsStream(String name) {
            return super.getResourceAsStream(rename(name));
        }
    }
}

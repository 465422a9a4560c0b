import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.security.Constraint;
import org.eclipse.jetty.security.HashLoginService;
import org.eclipse.jetty.security.SecurityHandler;
import org.eclipse.jetty.security.UserStore;
import org.eclipse.jetty.security.authentication.BasicAuthenticator;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.security.Credential;

/**
 * Hawtio 4 (the war from Maven Central) on an embedded Jetty 12, opened on the pipeline's Jolokia: run by
 * {@code bin/hawtio}, which passes the war's path. Java runs this source file directly, nothing to compile.
 * <p>
 * {@code http://HOST:PORT/} stores a Hawtio connection to the pipeline's Jolokia in the browser, then opens Hawtio's
 * Camel routes on it; Hawtio reaches Jolokia through its own proxy, so the browser only needs to reach Hawtio.
 * <p>
 * Settings (system property, else environment variable, else default):
 * <ul>
 * <li>{@code hawtio.host} / {@code HAWTIO_HOST} ({@code localhost}) and {@code hawtio.port} / {@code HAWTIO_PORT}
 * ({@code 8080}): where Hawtio listens;</li>
 * <li>{@code hawtio.user} / {@code HAWTIO_USER} and {@code hawtio.password} / {@code HAWTIO_PASSWORD}: required when
 * Hawtio listens on anything but a loopback address, which then asks for them (HTTP basic authentication);</li>
 * <li>{@code etl.management.host} / {@code ETL_MANAGEMENT_HOST} ({@code localhost}) and {@code etl.management.port} /
 * {@code ETL_MANAGEMENT_PORT} ({@code 9876}): the pipeline's management server, as in application.properties.</li>
 * </ul>
 */
public class HawtioLauncher {

    static final String CONNECTION = "streaming-etl";

    public static void main(String... args) throws Exception {
        if (args.length != 1 || !Files.isRegularFile(Path.of(args[0]))) {
            throw new IllegalArgumentException("Usage: HawtioLauncher <hawtio.war>");
        }
        String host = setting("hawtio.host", "HAWTIO_HOST", "localhost");
        int port = Integer.parseInt(setting("hawtio.port", "HAWTIO_PORT", "8080"));
        String jolokiaHost = setting("etl.management.host", "ETL_MANAGEMENT_HOST", "localhost");
        int jolokiaPort = Integer.parseInt(setting("etl.management.port", "ETL_MANAGEMENT_PORT", "9876"));
        boolean local = InetAddress.getByName(host).isLoopbackAddress();
        String user = setting("hawtio.user", "HAWTIO_USER", "");
        String password = setting("hawtio.password", "HAWTIO_PASSWORD", "");
        if (!local && (user.isEmpty() || password.isEmpty())) {
            throw new IllegalStateException("Hawtio on " + host + " is reachable from other machines and Jolokia can stop"
                    + " routes: set hawtio.user and hawtio.password (or HAWTIO_USER and HAWTIO_PASSWORD)");
        }

        // Hawtio's own login needs a JAAS realm: off, since either only this machine reaches it or Jetty asks below
        System.setProperty("hawtio.authenticationEnabled", "false");
        // its proxy may reach the pipeline's management server, and nothing else
        System.setProperty("hawtio.proxyAllowlist", jolokiaHost);
        System.setProperty("hawtio.localAddressProbing", "false");

        Server server = new Server();
        server.setStopAtShutdown(true);
        ServerConnector http = new ServerConnector(server);
        http.setHost(host);
        http.setPort(port);
        server.addConnector(http);

        WebAppContext hawtio = new WebAppContext();
        hawtio.setContextPath("/hawtio");
        hawtio.setWar(args[0]);
        ContextHandler start = new ContextHandler(new ConnectPage(jolokiaHost, jolokiaPort), "/");
        Handler handlers = new ContextHandlerCollection(hawtio, start);
        server.setHandler(local ? handlers : withBasicAuthentication(handlers, user, password));
        server.start();
        System.out.printf("Hawtio on http://%s:%d/ (the pipeline's Jolokia: http://%s:%d/observe/jolokia)%n",
                host, http.getLocalPort(), jolokiaHost, jolokiaPort);
        server.join();
    }

    static String setting(String property, String env, String fallback) {
        String value = System.getProperty(property, System.getenv(env));
        return value == null || value.isBlank() ? fallback : value.trim();
    }

    static Handler withBasicAuthentication(Handler handler, String user, String password) {
        UserStore users = new UserStore();
        users.addUser(user, Credential.getCredential(password), new String[] {"admin"});
        HashLoginService login = new HashLoginService("Hawtio");
        login.setUserStore(users);
        SecurityHandler.PathMapped security = new SecurityHandler.PathMapped();
        security.setLoginService(login);
        security.setAuthenticator(new BasicAuthenticator());
        security.put("/*", Constraint.ANY_USER);
        security.setHandler(handler);
        return security;
    }

    /** Stores the connection to the pipeline's Jolokia in the browser (as Hawtio's Connect page would), then opens it. */
    static final class ConnectPage extends Handler.Abstract {

        private final String html;

        ConnectPage(String jolokiaHost, int jolokiaPort) {
            String connection = String.format("{\"id\": \"%s\", \"name\": \"%s\", \"scheme\": \"http\", \"host\": \"%s\","
                    + " \"port\": %d, \"path\": \"/observe/jolokia\"}", CONNECTION, CONNECTION, jolokiaHost, jolokiaPort);
            html = """
                    <!DOCTYPE html>
                    <html><head><title>Hawtio: streaming-etl</title></head><body><script>
                    const connections = JSON.parse(localStorage.getItem('connect.connections') || '{}');
                    connections['%s'] = %s;
                    localStorage.setItem('connect.connections', JSON.stringify(connections));
                    location.replace('/hawtio/camel/routes?con=%s');
                    </script></body></html>
                    """.formatted(CONNECTION, connection, CONNECTION);
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            if (!"/".equals(Request.getPathInContext(request))) {
                return false;
            }
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/html; charset=utf-8");
            Content.Sink.write(response, true, html, callback);
            return true;
        }
    }
}

package dev.streametl.observe;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import com.sun.net.httpserver.HttpServer;
import dev.streametl.pipeline.ElasticsearchConnection;
import org.apache.camel.health.HealthCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The readiness checks against a stand-in Elasticsearch health answer, and against ports where nothing listens. */
class ServiceChecksTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    private HttpServer elasticsearch;
    private volatile String clusterHealth;
    private volatile String requiredAuthorization;

    /** A connection as the pipeline makes it from its properties: a URL and, if given, an API key. */
    private static ElasticsearchConnection connection(String url, String apiKey) {
        java.util.Map<String, String> settings = new java.util.HashMap<>();
        settings.put("etl.elasticsearch.url", url);
        settings.put("etl.elasticsearch.api-key", apiKey);
        return ElasticsearchConnection.from(settings::get);
    }

    @AfterEach
    void stopStandIn() {
        if (elasticsearch != null) {
            elasticsearch.stop(0);
        }
    }

    @Test
    void elasticsearchIsUpWhileItsClusterIsGreenOrYellow() throws Exception {
        String address = standInElasticsearch();
        ElasticsearchCheck check = new ElasticsearchCheck(connection("http://" + address, null), TIMEOUT);

        clusterHealth = "{\"cluster_name\":\"embedded\",\"status\":\"yellow\"}";
        HealthCheck.Result yellow = check.call();
        clusterHealth = "{\"cluster_name\":\"embedded\",\"status\":\"red\"}";
        HealthCheck.Result red = check.call();

        assertEquals(HealthCheck.State.UP, yellow.getState());
        assertEquals("cluster health yellow", yellow.getMessage().orElseThrow());
        assertEquals(HealthCheck.State.DOWN, red.getState());
        assertTrue(red.getMessage().orElseThrow().contains("cluster health is red"), red.getMessage().orElseThrow());
    }

    @Test
    void elasticsearchIsDownSayingSoWhenItRefusesTheCredentials() throws Exception {
        String address = standInElasticsearch();
        clusterHealth = "{\"cluster_name\":\"embedded\",\"status\":\"green\"}";
        requiredAuthorization = "ApiKey right-key";

        HealthCheck.Result wrongKey = new ElasticsearchCheck(connection("http://" + address, "wrong-key"), TIMEOUT).call();
        HealthCheck.Result rightKey = new ElasticsearchCheck(connection("http://" + address, "right-key"), TIMEOUT).call();

        assertEquals(HealthCheck.State.DOWN, wrongKey.getState());
        String message = wrongKey.getMessage().orElseThrow();
        assertTrue(message.startsWith("elasticsearch: Elasticsearch at http://" + address + " with an API key refused the"
                + " pipeline's credentials: HTTP 401"), message);
        assertFalse(message.contains("wrong-key"), message);
        assertEquals(HealthCheck.State.UP, rightKey.getState(), rightKey.getMessage().orElse(""));
    }

    @Test
    void eachServiceIsDownWhereNothingListens() {
        int closed = closedPort();
        for (HealthCheck check : new HealthCheck[] {
                new ElasticsearchCheck(connection("http://localhost:" + closed, null), TIMEOUT),
                new PostgresCheck("localhost", closed, "inventory", "postgres", "postgres", "streaming_etl", null, TIMEOUT),
                new KafkaCheck("localhost:" + closed, TIMEOUT) }) {
            long start = System.nanoTime();
            HealthCheck.Result result = check.call();
            long millis = (System.nanoTime() - start) / 1_000_000;

            assertEquals(HealthCheck.State.DOWN, result.getState(), check.getId());
            assertTrue(result.getMessage().orElseThrow().startsWith(check.getId() + " cannot be reached: "),
                    result.getMessage().orElseThrow());
            assertTrue(millis < TIMEOUT.toMillis() + 2000, check.getId() + " took " + millis + " ms");
        }
    }

    @Test
    void theReasonIsTheFirstMessageAlongTheCausesOrElseTheErrorsName() {
        assertEquals("ConnectException", ServiceCheck.reason(new java.net.ConnectException()));
        assertEquals("IOException: refused", ServiceCheck.reason(new java.util.concurrent.ExecutionException(
                new RuntimeException(null, new java.io.IOException("refused")))));
    }

    @Test
    void serviceChecksAreReadinessOnly() {
        ElasticsearchCheck check = new ElasticsearchCheck(TIMEOUT);
        assertTrue(check.isReadiness());
        assertFalse(check.isLiveness());
    }

    private String standInElasticsearch() throws IOException {
        elasticsearch = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        elasticsearch.createContext("/_cluster/health", exchange -> {
            boolean allowed = requiredAuthorization == null
                    || requiredAuthorization.equals(exchange.getRequestHeaders().getFirst("Authorization"));
            byte[] body = (allowed ? clusterHealth : "{\"error\":{\"type\":\"security_exception\",\"reason\":"
                    + "\"unable to authenticate with provided credentials\"},\"status\":401}").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(allowed ? 200 : 401, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        elasticsearch.start();
        return "localhost:" + elasticsearch.getAddress().getPort();
    }

    private static int closedPort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}

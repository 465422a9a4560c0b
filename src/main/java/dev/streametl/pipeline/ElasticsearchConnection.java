package dev.streametl.pipeline;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.function.Function;

import javax.net.ssl.SSLContext;

import co.elastic.clients.transport.TransportUtils;
import org.apache.http.Header;
import org.apache.http.HttpHost;
import org.apache.http.message.BasicHeader;
import org.apache.http.util.EntityUtils;
import org.elasticsearch.client.Request;
import org.elasticsearch.client.Response;
import org.elasticsearch.client.ResponseException;
import org.elasticsearch.client.RestClient;
import org.elasticsearch.client.RestClientBuilder;

/**
 * The pipeline's connection to Elasticsearch, configured once: its URL ({@code etl.elasticsearch.url}, http or https), the CA it
 * trusts ({@code etl.elasticsearch.ca-certificate}, a PEM file, or {@code .ca-fingerprint}, the CA's SHA-256; neither:
 * the JVM's authorities, as Elastic Cloud needs) and its credentials ({@code etl.elasticsearch.api-key} or
 * {@code .api-key-file}, else {@code .username} and {@code .password}). Every call goes through it: the
 * {@code elasticsearch} component's bulk writes and searches through {@link #client()}, the index templates, refreshes
 * and health through {@link #call}, on a second client made from the same settings.
 * <p>
 * The credentials travel as a default header of the client and are never logged: {@link #toString()} names the URL
 * and the kind of credentials only.
 */
public final class ElasticsearchConnection implements AutoCloseable {

    private static final java.util.regex.Pattern REASON = java.util.regex.Pattern.compile("\"reason\"\\s*:\\s*\"([^\"]*)\"");
    private static final java.util.regex.Pattern TYPE = java.util.regex.Pattern.compile("\"type\"\\s*:\\s*\"([^\"]*)\"");

    private final URI url;
    private final String credentialsKind;
    /** The client of the elasticsearch component (bulk writes, searches). */
    private final RestClient client;
    /**
     * The client of the pipeline's own calls ({@link #call}: templates, refreshes, health), made from the same settings.
     * Not the component's: the component completes its requests on its client's I/O threads, and the route goes on
     * there; a blocking call through the same client from such a thread would wait for an I/O thread it occupies
     * itself (with two of them, two such calls stall every Elasticsearch request of the pipeline).
     */
    private final RestClient ownCalls;

    private ElasticsearchConnection(URI url, String credentialsKind, RestClient client, RestClient ownCalls) {
        this.url = url;
        this.credentialsKind = credentialsKind;
        this.client = client;
        this.ownCalls = ownCalls;
    }

    /** A connection as the pipeline's properties ({@code etl.elasticsearch.*}) describe it. */
    public static ElasticsearchConnection from(Function<String, String> setting) {
        URI url = URI.create(setting.apply("etl.elasticsearch.url").trim().replaceAll("/+$", ""));
        if (url.getHost() == null || !(url.getScheme().equals("http") || url.getScheme().equals("https"))) {
            throw new IllegalArgumentException("etl.elasticsearch.url must be http(s)://host[:port], not " + url);
        }
        String apiKey = blank(setting.apply("etl.elasticsearch.api-key"));
        String apiKeyFile = blank(setting.apply("etl.elasticsearch.api-key-file"));
        if (apiKey == null && apiKeyFile != null) {
            apiKey = KafkaSecurity.readSecret(Path.of(apiKeyFile), "Elasticsearch API key");
        }
        String username = blank(setting.apply("etl.elasticsearch.username"));
        String password = blank(setting.apply("etl.elasticsearch.password"));
        Header authorization = null;
        String kind = "no credentials";
        if (apiKey != null) {
            authorization = new BasicHeader("Authorization", "ApiKey " + apiKey);
            kind = "an API key";
        } else if (username != null) {
            String pair = username + ":" + (password == null ? "" : password);
            authorization = new BasicHeader("Authorization",
                    "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8)));
            kind = "user " + username;
        }
        SSLContext ssl = sslContext(blank(setting.apply("etl.elasticsearch.ca-certificate")),
                blank(setting.apply("etl.elasticsearch.ca-fingerprint")));
        RestClientBuilder builder = RestClient.builder(new HttpHost(url.getHost(), port(url), url.getScheme()))
                .setRequestConfigCallback(request -> request.setConnectTimeout(10_000).setSocketTimeout(60_000));
        if (authorization != null) {
            builder.setDefaultHeaders(new Header[] {authorization});
        }
        // daemon I/O threads: a start that fails before the client is closed must not keep the JVM alive
        java.util.concurrent.atomic.AtomicInteger threads = new java.util.concurrent.atomic.AtomicInteger();
        builder.setHttpClientConfigCallback(http -> {
            http.setThreadFactory(task -> {
                Thread thread = new Thread(task, "elasticsearch-client-" + threads.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            });
            return ssl == null ? http : http.setSSLContext(ssl);
        });
        return new ElasticsearchConnection(url, kind, builder.build(), builder.build());
    }

    /** The low-level client, for the {@code elasticsearch} component. */
    public RestClient client() {
        return client;
    }

    public URI url() {
        return url;
    }

    /**
     * Sends a request ({@code body} may be null) and returns the answer, whatever its status. Throws only when
     * Elasticsearch cannot be reached.
     */
    public Answer call(String method, String path, String body) throws IOException {
        return call(method, path, body, null);
    }

    /** {@link #call(String, String, String)} within a time limit (null: the client's, 10 s to connect, 60 s to answer). */
    public Answer call(String method, String path, String body, java.time.Duration timeout) throws IOException {
        Request request = new Request(method, path);
        if (body != null) {
            request.setJsonEntity(body);
        }
        if (timeout != null) {
            int millis = (int) timeout.toMillis();
            request.setOptions(request.getOptions().toBuilder().setRequestConfig(org.apache.http.client.config.RequestConfig
                    .custom().setConnectTimeout(millis).setSocketTimeout(millis).setConnectionRequestTimeout(millis).build()));
        }
        Response response;
        try {
            response = ownCalls.performRequest(request);
        } catch (ResponseException e) {
            response = e.getResponse();
        }
        int status = response.getStatusLine().getStatusCode();
        String text = response.getEntity() == null ? "" : EntityUtils.toString(response.getEntity(), StandardCharsets.UTF_8);
        return new Answer(status, text);
    }

    /** What Elasticsearch answered: the HTTP status and the body. */
    public record Answer(int status, String body) {

        /** The credentials were refused (401) or do not allow the call (403). */
        public boolean refused() {
            return status == 401 || status == 403;
        }

        /** A short description of a failed answer, its reason first: "HTTP 401 (security_exception: unable to ...)". */
        public String describe() {
            java.util.regex.Matcher reason = REASON.matcher(body);
            java.util.regex.Matcher type = TYPE.matcher(body);
            String cause = reason.find() ? (type.find() ? type.group(1) + ": " : "") + reason.group(1) : null;
            return "HTTP " + status + (refused() ? " (credentials refused)" : "") + (cause == null ? "" : ": " + cause);
        }
    }

    /** One line on why Elasticsearch could not be reached: no answer, or a TLS handshake that failed. */
    public static String unreachable(ElasticsearchConnection elasticsearch, IOException failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof javax.net.ssl.SSLException) {
                return elasticsearch + ": the TLS handshake failed, its certificate is not trusted or does not match"
                       + " (etl.elasticsearch.ca-certificate / ca-fingerprint): " + cause.getMessage();
            }
        }
        return "Cannot reach " + elasticsearch + ": " + failure;
    }

    @Override
    public void close() {
        close(client);
        close(ownCalls);
    }

    private static void close(RestClient restClient) {
        try {
            restClient.close();
        } catch (IOException e) {
            // closing: nothing left to do
        }
    }

    @Override
    public String toString() {
        return "Elasticsearch at " + url + " with " + credentialsKind;
    }

    private static int port(URI url) {
        return url.getPort() != -1 ? url.getPort() : url.getScheme().equals("https") ? 443 : 80;
    }

    private static SSLContext sslContext(String caCertificate, String caFingerprint) {
        if (caCertificate != null) {
            return TrustedCertificates.sslContext(Path.of(caCertificate), "Elasticsearch");
        }
        return caFingerprint == null ? null : TransportUtils.sslContextFromCaFingerprint(caFingerprint.replace(":", ""));
    }

    private static String blank(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }
}

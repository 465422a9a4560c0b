package dev.streametl.observe;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.camel.health.HealthCheckResultBuilder;

/**
 * Elasticsearch can take writes: GET /_cluster/health answers green or yellow (a single node's replicas are never
 * assigned, so yellow is its normal state). GET / is no use: the distribution the project runs answers it with 405.
 */
public final class ElasticsearchCheck extends ServiceCheck {

    private static final Pattern STATUS = Pattern.compile("\"status\"\\s*:\\s*\"(\\w+)\"");

    private final URI health;
    private final HttpClient http;

    public ElasticsearchCheck(String hostAndPort, Duration timeout) {
        super("elasticsearch", timeout);
        this.health = URI.create("http://" + hostAndPort + "/_cluster/health");
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    @Override
    protected String probe(HealthCheckResultBuilder builder) throws Exception {
        builder.detail("url", health.toString());
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(health).timeout(timeout).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher status = STATUS.matcher(response.body());
        String cluster = status.find() ? status.group(1) : "unknown";
        if (response.statusCode() != 200 || !(cluster.equals("green") || cluster.equals("yellow"))) {
            throw new Unfit("cluster health is " + cluster + " (HTTP " + response.statusCode() + ")");
        }
        return "cluster health " + cluster;
    }
}

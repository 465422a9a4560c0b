package dev.streametl.observe;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.streametl.pipeline.ElasticsearchConnection;
import org.apache.camel.health.HealthCheckResultBuilder;

/**
 * Elasticsearch can take writes: GET /_cluster/health answers green or yellow (a single node's replicas are never
 * assigned, so yellow is its normal state), through the pipeline's own client, so with its credentials and the CA it
 * trusts: refused credentials or an untrusted certificate turn it DOWN, saying so. GET / is no use: the distribution
 * the project runs answers it with 405.
 */
public final class ElasticsearchCheck extends ServiceCheck {

    private static final Pattern STATUS = Pattern.compile("\"status\"\\s*:\\s*\"(\\w+)\"");

    /** The connection to check; null: the pipeline's own, found in the Camel context at each check. */
    private final ElasticsearchConnection given;

    /** A check of the pipeline's Elasticsearch connection (the one of its Camel context). */
    public ElasticsearchCheck(Duration timeout) {
        this(null, timeout);
    }

    public ElasticsearchCheck(ElasticsearchConnection connection, Duration timeout) {
        super("elasticsearch", timeout);
        this.given = connection;
    }

    @Override
    protected String probe(HealthCheckResultBuilder builder) throws Exception {
        ElasticsearchConnection elasticsearch = given != null ? given
                : getCamelContext().getRegistry().findSingleByType(ElasticsearchConnection.class);
        builder.detail("url", elasticsearch.url().toString());
        ElasticsearchConnection.Answer answer;
        try {
            answer = elasticsearch.call("GET", "/_cluster/health", null, timeout);
        } catch (javax.net.ssl.SSLException e) {
            throw new Unfit(ElasticsearchConnection.unreachable(elasticsearch, e));
        }
        if (answer.refused()) {
            throw new Unfit(elasticsearch + " refused the pipeline's credentials: " + answer.describe());
        }
        Matcher status = STATUS.matcher(answer.body());
        String cluster = status.find() ? status.group(1) : "unknown";
        if (answer.status() != 200 || !(cluster.equals("green") || cluster.equals("yellow"))) {
            throw new Unfit("cluster health is " + cluster + " (HTTP " + answer.status() + ")");
        }
        return "cluster health " + cluster;
    }
}

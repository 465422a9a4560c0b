package dev.streametl.routes;

import dev.streametl.observe.PipelineMetrics;
import dev.streametl.observe.PipelineProgress;
import dev.streametl.observe.PostgresCheck;
import dev.streametl.pipeline.Connections;
import dev.streametl.pipeline.CustomerUpdates;
import dev.streametl.pipeline.ElasticsearchConnection;
import dev.streametl.pipeline.KafkaAdmins;
import dev.streametl.pipeline.RecordFormat;
import dev.streametl.pipeline.ResumeAfterRebalance;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.camel.BindToRegistry;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Configuration;
import org.apache.camel.component.es.ElasticsearchEndpoint;
import org.apache.camel.component.micrometer.MicrometerConstants;
import org.apache.camel.support.CamelContextHelper;

/**
 * The beans the stages share, each made once, from the configuration, where the routes and the health checks find
 * them: the pipeline's meters, the record format ({@code etl.format}), the Elasticsearch connection, how customer
 * updates reach the enriched orders ({@code etl.enrich.customer-updates}), the Kafka admin clients of the batch fences
 * and the progress report. camel-main finds
 * this class by package scan, Camel JBang when it compiles it; either way it also connects the {@code kafka} and
 * {@code elasticsearch} components before any route makes an endpoint ({@link Connections}).
 * <p>
 * Every bean is made when first looked up ({@code lazy}): the order in which the configuration classes are processed
 * differs between camel-main and Camel JBang, and none of them needs another's beans before the routes are built.
 * Test or adapt by binding a bean of the same name first.
 */
@Configuration
public class PipelineBeans implements CamelConfiguration, CamelContextAware {

    public static final String METRICS = "etlPipelineMetrics";
    public static final String FORMAT = "etlRecordFormat";
    public static final String ELASTICSEARCH = "etlElasticsearchConnection";
    public static final String CUSTOMER_UPDATES = "etlCustomerUpdates";
    public static final String PROGRESS = "etlProgress";

    private CamelContext context;
    private PipelineMetrics metrics;
    private RecordFormat format;
    private ElasticsearchConnection elasticsearch;

    /** A bean of the pipeline, from the registry of the route builder's or check's Camel context. */
    public static <T> T of(CamelContext context, String name, Class<T> type) {
        return CamelContextHelper.mandatoryLookup(context, name, type);
    }

    @Override
    public void setCamelContext(CamelContext context) {
        this.context = context;
    }

    @Override
    public CamelContext getCamelContext() {
        return context;
    }

    @Override
    public void configure(CamelContext camel) {
        Connections.connect(camel, recordFormat(), elasticsearchConnection());
        if (setting("etl.capture.source").startsWith("debezium-postgres:")) {
            // only Debezium's capture has a replication slot; the check that reads it is a bean of ServiceChecks
            pipelineMetrics().watchRetainedWal(() -> camel.getRegistry().findSingleByType(PostgresCheck.class));
        }
    }

    /**
     * The pipeline's meters. They go into the registry camel-main's metrics serve: found by its name or, if
     * camel-main has not made it yet, made here under that name, so that camel-main takes it.
     */
    @BindToRegistry(value = METRICS, lazy = true)
    public synchronized PipelineMetrics pipelineMetrics() {
        if (metrics == null) {
            MeterRegistry registry = context.getRegistry().lookupByNameAndType(MicrometerConstants.METRICS_REGISTRY_NAME,
                    MeterRegistry.class);
            if (registry == null) {
                registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
                context.getRegistry().bind(MicrometerConstants.METRICS_REGISTRY_NAME, registry);
            }
            metrics = new PipelineMetrics(registry);
        }
        return metrics;
    }

    /** How records are written to and read from Kafka: JSON, or Avro with a schema registry ({@code etl.format}). */
    @BindToRegistry(value = FORMAT, lazy = true)
    public synchronized RecordFormat recordFormat() {
        if (format == null) {
            format = RecordFormat.from(optionalSetting("etl.format"), this::optionalSetting);
        }
        return format;
    }

    /** The pipeline's one Elasticsearch client ({@code etl.elasticsearch.*}), closed when Camel stops. */
    @BindToRegistry(value = ELASTICSEARCH, lazy = true, destroyMethod = "close")
    public synchronized ElasticsearchConnection elasticsearchConnection() {
        if (elasticsearch == null) {
            elasticsearch = ElasticsearchConnection.from(this::optionalSetting);
        }
        return elasticsearch;
    }

    /**
     * How a customer update reaches the orders already enriched; rewriting them needs the index the orders are
     * written to, when that endpoint is Elasticsearch's ({@code etl.enrich.indexed-orders}).
     */
    @BindToRegistry(value = CUSTOMER_UPDATES, lazy = true)
    public CustomerUpdates customerUpdates() {
        String mode = setting("etl.enrich.customer-updates");
        if (context.getEndpoint(setting("etl.enrich.indexed-orders")) instanceof ElasticsearchEndpoint index) {
            return CustomerUpdates.from(mode, elasticsearchConnection(), index.getConfiguration().getIndexName());
        }
        return CustomerUpdates.from(mode, null, null); // the orders are not searched in Elasticsearch (a test's mock)
    }

    /** The Kafka admin clients the batch fences ask whether a batch is still their consumer's, closed when Camel stops. */
    @BindToRegistry(value = KafkaAdmins.BEAN, lazy = true, destroyMethod = "close")
    public KafkaAdmins kafkaAdmins() {
        return new KafkaAdmins();
    }

    /**
     * How every Kafka consumer subscribes: a partition a rebalance gives back to its consumer goes on from where it was,
     * so that the records its batch still holds are not read and written a second time.
     */
    @BindToRegistry(ResumeAfterRebalance.BEAN)
    public ResumeAfterRebalance resumeAfterRebalance() {
        return new ResumeAfterRebalance();
    }

    /** The progress line, with the snapshot's size estimated from the source database's statistics. */
    @BindToRegistry(value = PROGRESS, lazy = true)
    public PipelineProgress progress() {
        return PipelineProgress.of(pipelineMetrics(), context);
    }

    private String setting(String key) {
        return context.resolvePropertyPlaceholders("{{" + key + "}}").trim();
    }

    private String optionalSetting(String key) {
        return context.getPropertiesComponent().resolveProperty(key).orElse(null);
    }
}

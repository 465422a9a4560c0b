package dev.streametl.routes;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

import dev.streametl.pipeline.ElasticsearchConnection;
import dev.streametl.pipeline.IndexTemplates;
import dev.streametl.pipeline.KafkaSecurity;
import dev.streametl.pipeline.KafkaTopics;

/**
 * Stage 0, set-up: what the pipeline writes to is made to exist, as configured, before any route starts: the state
 * folder ({@code etl.state-dir}), the Kafka topics with their partitions and policies ({@code etl.kafka.topic.*}), and
 * the index templates of Elasticsearch ({@code etl.elasticsearch.index-templates}). It has no route of its own.
 */
public class SetupRoutes extends PipelineRoutes {

    static final String TOPIC_PREFIX = "etl.kafka.topic.";

    @Override
    protected void routes() throws Exception {
        // where capture keeps its offsets: without the folder, Debezium cannot save them and replays after a restart
        Files.createDirectories(Path.of(setting("etl.state-dir")));
        if (Boolean.parseBoolean(setting("etl.kafka.create-topics"))) {
            Properties specs = getContext().getPropertiesComponent().loadProperties(key -> key.startsWith(TOPIC_PREFIX));
            List<KafkaTopics.Topic> topics = specs.stringPropertyNames().stream().sorted()
                    .map(key -> KafkaTopics.Topic.parse(setting(key))).toList();
            KafkaTopics.create(KafkaSecurity.clientConfig(getContext()), topics);
        }
        List<String> templates = Arrays.stream(setting("etl.elasticsearch.index-templates").split(","))
                .map(String::trim).filter(name -> !name.isEmpty() && !name.equals("none")).toList();
        if (!templates.isEmpty()) {
            IndexTemplates.install(bean(PipelineBeans.ELASTICSEARCH, ElasticsearchConnection.class), templates);
        }
    }
}

package dev.streametl.pipeline;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The topics of the pipeline, created at start-up when missing, with their partitions and policies (a compacted
 * customers topic, say), instead of whatever a broker's auto-creation would give them.
 * <p>
 * Each topic is one property value: its name, then {@code partitions=N} and any topic configs, separated by spaces:
 * {@code postgres.public.customers partitions=1 cleanup.policy=compact}. An existing topic is left as it is; a
 * difference in partitions is logged, never changed (repartitioning would break the per-key order).
 */
public final class KafkaTopics {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaTopics.class);

    /** One topic to create: its name, partitions and configs. */
    public record Topic(String name, int partitions, Map<String, String> configs) {

        /** Reads {@code name partitions=N key=value ...}; partitions default to 1. */
        public static Topic parse(String spec) {
            List<String> words = Arrays.stream(spec.trim().split("\\s+")).filter(w -> !w.isEmpty()).toList();
            if (words.isEmpty()) {
                throw new IllegalArgumentException("empty topic spec");
            }
            int partitions = 1;
            Map<String, String> configs = new HashMap<>();
            for (String word : words.subList(1, words.size())) {
                int eq = word.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("topic " + words.get(0) + ": '" + word + "' is not key=value");
                }
                String key = word.substring(0, eq);
                String value = word.substring(eq + 1);
                if (key.equals("partitions")) {
                    partitions = Integer.parseInt(value);
                } else {
                    configs.put(key, value);
                }
            }
            return new Topic(words.get(0), partitions, Map.copyOf(configs));
        }
    }

    private KafkaTopics() {
    }

    /**
     * An admin client. Kafka loads the classes its configs name through the thread's context class loader; under Camel
     * JBang that one does not see the downloaded Kafka jars, so Kafka's own loader is used while the client is made.
     */
    public static Admin admin(Properties config) {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(Admin.class.getClassLoader());
        try {
            return Admin.create(config);
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    /** Creates the topics that do not exist yet on the brokers of {@code clientConfig}; waits until done. */
    public static void create(Properties clientConfig, List<Topic> topics) throws InterruptedException {
        if (topics.isEmpty()) {
            return;
        }
        Properties config = new Properties();
        config.putAll(clientConfig);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000);
        Object bootstrapServers = config.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG);
        try (Admin admin = admin(config)) {
            Set<String> existing = admin.listTopics().names().get(60, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (Topic topic : topics) {
                if (!existing.contains(topic.name())) {
                    missing.add(new NewTopic(topic.name(), Optional.of(topic.partitions()), Optional.empty())
                            .configs(topic.configs()));
                }
            }
            for (NewTopic topic : missing) {
                try {
                    admin.createTopics(List.of(topic)).all().get(60, TimeUnit.SECONDS);
                    LOG.info("Created topic {} ({} partitions{})", topic.name(), topic.numPartitions(),
                            topic.configs().isEmpty() ? "" : ", " + topic.configs());
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("Cannot create topic " + topic.name() + ": " + e.getCause().getMessage(), e);
                    }
                }
            }
            warnAboutDifferences(admin, topics, existing);
        } catch (ExecutionException e) {
            throw new IllegalStateException(KafkaRefusal.describe("Kafka at " + bootstrapServers, e.getCause())
                    + " (while creating the topics)", e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Kafka at " + bootstrapServers + " did not answer within 60 s (while creating"
                    + " the topics)", e);
        }
    }

    /**
     * The offset of the last record of each non-empty partition of a topic, now (a start-up's catch-up gate, a reader
     * waiting for what another instance wrote). Opens an admin client for the call: for what happens rarely.
     */
    public static Map<Integer, Long> lastOffsets(Properties clientConfig, String topic) throws Exception {
        try (Admin admin = admin(clientConfig)) {
            List<TopicPartition> partitions = admin.describeTopics(List.of(topic)).allTopicNames()
                    .get(60, TimeUnit.SECONDS).get(topic).partitions().stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            Map<TopicPartition, ListOffsetsResultInfo> earliest = admin.listOffsets(partitions.stream()
                    .collect(Collectors.toMap(p -> p, p -> OffsetSpec.earliest()))).all().get(60, TimeUnit.SECONDS);
            Map<TopicPartition, ListOffsetsResultInfo> latest = admin.listOffsets(partitions.stream()
                    .collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest()))).all().get(60, TimeUnit.SECONDS);
            Map<Integer, Long> last = new HashMap<>();
            for (TopicPartition partition : partitions) {
                long end = latest.get(partition).offset();
                if (end > earliest.get(partition).offset()) {
                    last.put(partition.partition(), end - 1);
                }
            }
            return last;
        }
    }

    private static void warnAboutDifferences(Admin admin, List<Topic> topics, Set<String> existing)
            throws ExecutionException, InterruptedException, java.util.concurrent.TimeoutException {
        List<String> names = topics.stream().map(Topic::name).filter(existing::contains).toList();
        if (names.isEmpty()) {
            return;
        }
        Map<String, TopicDescription> descriptions = admin.describeTopics(names).allTopicNames().get(60, TimeUnit.SECONDS);
        for (Topic topic : topics) {
            TopicDescription description = descriptions.get(topic.name());
            if (description != null && description.partitions().size() != topic.partitions()) {
                LOG.warn("Topic {} exists with {} partitions, not the {} configured: left as it is",
                        topic.name(), description.partitions().size(), topic.partitions());
            }
        }
    }
}

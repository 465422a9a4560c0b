package dev.streametl.routes;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import dev.streametl.App;
import dev.streametl.embedded.EmbeddedKafka;
import dev.streametl.observe.PipelineMetrics;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.main.Main;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The order batches: one Elasticsearch bulk request per batch of at most {@code etl.orders.batch-size} orders, and a batch
 * written every {@code etl.orders.batch-interval-ms} while orders keep coming, without waiting for it to be full.
 * <p>
 * Both are the Kafka consumer's doing ({@code maxPollRecords} and {@code batchingIntervalMs} of {@code etl.orders.source}),
 * so, unlike the other route tests, the orders come from a real Kafka topic (a broker in this JVM), read through the
 * pipeline's own {@code etl.orders.source} URI from application.properties; every other endpoint is swapped as in the
 * other route tests (unit-test.properties), Elasticsearch a mock that records each bulk request.
 */
class OrderBatchesTest {

    @TempDir
    static Path tempDir;
    static EmbeddedKafka kafka;

    Main pipeline;
    /** The number of operations of each bulk request Elasticsearch received, in order, and when. */
    final List<Integer> bulkSizes = new CopyOnWriteArrayList<>();
    final List<Long> bulkTimes = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void startKafka() throws IOException {
        kafka = EmbeddedKafka.start(0, tempDir.resolve("kafka"));
    }

    @AfterAll
    static void stopKafka() {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void oneBulkRequestPerBatchOfAtMostTheBatchSize() throws Exception {
        String topic = "orders-batch-size";
        createTopic(topic);
        send(topic, 1, 23); // all there before the pipeline starts: nothing but the batch size splits them

        start(topic, Map.of("etl.orders.batch-size", "5"));

        await().atMost(Duration.ofSeconds(30)).until(() -> bulkSizes.stream().mapToInt(Integer::intValue).sum() >= 23);
        assertEquals(23, bulkSizes.stream().mapToInt(Integer::intValue).sum(), "each order once: " + bulkSizes);
        assertTrue(bulkSizes.stream().allMatch(size -> size <= 5), "bulks of at most 5 orders: " + bulkSizes);
        assertTrue(bulkSizes.size() >= 5, "23 orders in batches of 5 take 5 bulk requests at least: " + bulkSizes);
        assertEquals(bulkSizes.size(), pipeline.getCamelContext().getEndpoint("mock:kafka-enriched-orders", MockEndpoint.class)
                .getReceivedCounter(), "one Kafka send per batch too");
    }

    @Test
    void whileOrdersKeepComingABatchIsWrittenEveryIntervalWithoutWaitingToBeFull() throws Exception {
        String topic = "orders-batch-interval";
        createTopic(topic);
        start(topic, Map.of("etl.orders.batch-interval-ms", "300")); // batches of up to 500
        send(topic, 1, 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> !bulkSizes.isEmpty()); // the consumer is there

        // one order every 20 ms for 3 s: the consumer's polls are never empty, so only the interval ends a batch
        long start = System.nanoTime();
        try (KafkaProducer<String, String> producer = producer()) {
            for (int order = 2; order <= 151; order++) {
                producer.send(new ProducerRecord<>(topic, key(order), orderChange(order)));
                producer.flush();
                TimeUnit.MILLISECONDS.sleep(20);
            }
        }
        long end = System.nanoTime();

        await().atMost(Duration.ofSeconds(30)).until(() -> bulkSizes.stream().mapToInt(Integer::intValue).sum() >= 151);
        assertEquals(151, bulkSizes.stream().mapToInt(Integer::intValue).sum(), "each order once: " + bulkSizes);
        long writtenWhileOrdersCame = bulkTimes.stream().filter(time -> time > start && time < end).count();
        assertTrue(writtenWhileOrdersCame >= 4, "3 s of orders, a batch every 300 ms: " + writtenWhileOrdersCame
                + " bulk requests while the orders came; sizes " + bulkSizes);
        assertTrue(bulkSizes.stream().allMatch(size -> size < 100), "none waited to be full: " + bulkSizes);
    }

    @Test
    void aRebalanceWhileABatchFillsWritesEachOrderOnce() throws Exception {
        String topic = "orders-rebalance";
        createTopic(topic);
        createTopic("rebalance-trigger");
        start(topic, Map.of("etl.orders.batch-interval-ms", "300"));
        send(topic, 1, 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> !bulkSizes.isEmpty()); // the group is there, order 1 committed

        // while orders keep coming, a consumer joins the group, on another topic so that the orders' partition stays
        // where it is: the group rebalances, every consumer gives up its partitions and takes them back. The orders the
        // consumer had polled but not yet written wait in its batch meanwhile: reading again from the offset committed
        // before them would put them in the next batch a second time
        String group = group();
        CompletableFuture<Boolean> rebalanced = CompletableFuture.supplyAsync(() -> joinTheGroup(group));
        try (KafkaProducer<String, String> producer = producer()) {
            for (int order = 2; order <= 201; order++) {
                producer.send(new ProducerRecord<>(topic, key(order), orderChange(order)));
                producer.flush();
                TimeUnit.MILLISECONDS.sleep(20);
            }
        }
        assertTrue(rebalanced.get(30, TimeUnit.SECONDS), "the joining consumer got its partition: the group rebalanced");

        await().atMost(Duration.ofSeconds(40)).until(() -> bulkSizes.stream().mapToInt(Integer::intValue).sum() >= 201);
        TimeUnit.SECONDS.sleep(2); // a second copy of the orders would be written by now
        assertEquals(201, bulkSizes.stream().mapToInt(Integer::intValue).sum(), "each order once: " + bulkSizes);
        // a second copy in the same batch as the first would be written once (the newest change of each order), but read
        // and enriched twice
        assertEquals(201, pipeline.getCamelContext().getRegistry().lookupByNameAndType(PipelineBeans.METRICS,
                PipelineMetrics.class).enriched(), "each order enriched once");
    }

    /** A consumer of the orders' group, on another topic, until the group has given it its partition. */
    private static boolean joinTheGroup(String group) {
        try (KafkaConsumer<String, String> joining = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ConsumerConfig.GROUP_ID_CONFIG, group),
                new StringDeserializer(), new StringDeserializer())) {
            joining.subscribe(List.of("rebalance-trigger"));
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (joining.assignment().isEmpty() && System.nanoTime() < until) {
                joining.poll(Duration.ofMillis(100));
            }
            return !joining.assignment().isEmpty();
        }
    }

    private void start(String topic, Map<String, String> settings) throws Exception {
        pipeline = new Main(App.class);
        load("unit-test.properties").forEach((key, value) -> pipeline.addOverrideProperty((String) key, (String) value));
        // the pipeline's own orders source, on this test's topic and Kafka
        String source = load("application.properties").getProperty("etl.orders.source");
        assertTrue(source.startsWith("kafka:postgres.public.orders?"), source);
        pipeline.addOverrideProperty("etl.orders.source", source.replace("kafka:postgres.public.orders?", "kafka:" + topic + "?"));
        pipeline.addOverrideProperty("etl.kafka.brokers", kafka.bootstrapServers());
        settings.forEach(pipeline::addOverrideProperty);
        pipeline.start();
        MockEndpoint elasticsearch = pipeline.getCamelContext().getEndpoint("mock:elasticsearch-enriched-orders",
                MockEndpoint.class);
        elasticsearch.whenAnyExchangeReceived(exchange -> {
            bulkTimes.add(System.nanoTime());
            bulkSizes.add(exchange.getMessage().getBody(List.class).size());
        });
        try (ProducerTemplate customers = pipeline.getCamelContext().createProducerTemplate()) {
            customers.sendBody("direct:customers", OrderEnrichmentRoutesTest.customerChange("c", 3, "Anna Berg", 41, "standard"));
        }
        // every consumer in the group: one that joins later makes the group rebalance, while the orders come
        int consumers = Integer.parseInt(settings.getOrDefault("etl.orders.consumers",
                load("application.properties").getProperty("etl.orders.consumers")));
        String groupId = group();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(groupId)).all()
                        .get(10, TimeUnit.SECONDS).get(groupId);
                return group.groupState() == GroupState.STABLE && group.members().size() == consumers;
            });
        }
    }

    /** The orders' consumer group, as {@code etl.orders.source} names it. */
    private static String group() throws IOException {
        return load("application.properties").getProperty("etl.orders.source").replaceAll(".*groupId=([^&]*).*", "$1");
    }

    @AfterEach
    void stopPipeline() {
        if (pipeline != null) {
            pipeline.stop();
        }
    }

    private static Properties load(String resource) throws IOException {
        Properties properties = new Properties();
        try (InputStream in = OrderBatchesTest.class.getClassLoader().getResourceAsStream(resource)) {
            properties.load(in);
        }
        return properties;
    }

    private static void createTopic(String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
    }

    private static void send(String topic, int firstOrder, int count) {
        try (KafkaProducer<String, String> producer = producer()) {
            for (int order = firstOrder; order < firstOrder + count; order++) {
                producer.send(new ProducerRecord<>(topic, key(order), orderChange(order)));
            }
            producer.flush();
        }
    }

    private static KafkaProducer<String, String> producer() {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringSerializer(), new StringSerializer());
    }

    private static String key(int order) {
        return "{\"order_id\":" + order + "}";
    }

    private static String orderChange(int order) {
        return OrderEnrichmentRoutesTest.orderChange("c", order, 3, "10.00", "MUG-02");
    }
}

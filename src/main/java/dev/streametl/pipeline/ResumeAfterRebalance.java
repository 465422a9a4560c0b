package dev.streametl.pipeline;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

import org.apache.camel.component.kafka.consumer.support.subcription.DefaultSubscribeAdapter;
import org.apache.camel.component.kafka.consumer.support.subcription.SubscribeAdapter;
import org.apache.camel.component.kafka.consumer.support.subcription.TopicInfo;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the pipeline's Kafka consumers subscribe (the kafka component takes it from the registry, bound as
 * {@value #BEAN}): a partition that a rebalance takes from a consumer and gives back to it goes on from where that
 * consumer was, not from the group's committed offset.
 * <p>
 * A batching consumer holds the records it has polled until its batch is due, and a rebalance does not empty its batch:
 * those records are written and committed once the rebalance is over. Read again from the committed offset, they would
 * also come in the next batch, written a second time (every member of the group gives up its partitions when one
 * joins or leaves: an instance started, stopped, or restarted). A partition lost (the consumer was dropped from the
 * group: a pause past its session timeout) or given to another consumer starts from the committed offset, as before.
 */
public final class ResumeAfterRebalance implements SubscribeAdapter {

    /** The registry name the kafka component looks the adapter up by. */
    public static final String BEAN = "subscribeAdapter";
    private static final Logger LOG = LoggerFactory.getLogger(ResumeAfterRebalance.class);

    /** The kafka component's own subscription (topics or pattern), given the resuming listener. */
    private final SubscribeAdapter subscription = new DefaultSubscribeAdapter();

    @Override
    public void subscribe(Consumer<?, ?> consumer, ConsumerRebalanceListener camelListener, TopicInfo topics) {
        subscription.subscribe(consumer, new Resuming(consumer, camelListener), topics);
    }

    /** The kafka component's listener, and then, for a partition given back, a seek to where the consumer was. */
    private static final class Resuming implements ConsumerRebalanceListener {

        private final Consumer<?, ?> consumer;
        private final ConsumerRebalanceListener camelListener;
        /** Where this consumer was on each partition the rebalance under way took from it. */
        private Map<TopicPartition, Long> revoked = Map.of();

        Resuming(Consumer<?, ?> consumer, ConsumerRebalanceListener camelListener) {
            this.consumer = consumer;
            this.camelListener = camelListener;
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            camelListener.onPartitionsRevoked(partitions);
            Map<TopicPartition, Long> positions = new HashMap<>();
            for (TopicPartition partition : partitions) {
                try {
                    positions.put(partition, consumer.position(partition, Duration.ofSeconds(5)));
                } catch (RuntimeException e) {
                    LOG.debug("No position on {} as it is revoked: it starts from the committed offset", partition, e);
                }
            }
            revoked = positions;
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            camelListener.onPartitionsAssigned(partitions);
            for (TopicPartition partition : partitions) {
                Long position = revoked.get(partition);
                if (position != null) {
                    consumer.seek(partition, position);
                    LOG.debug("{} given back: goes on from offset {}", partition, position);
                }
            }
            revoked = Map.of();
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            revoked = Map.of(); // dropped from the group: what it polled may be another consumer's by now
            camelListener.onPartitionsLost(partitions);
        }
    }
}

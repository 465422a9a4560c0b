package dev.streametl.observe;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A stage that holds one exchange past the bound is DOWN, by name, with its last failure; UP once it lets go. */
class StageStallCheckTest {

    @Test
    void aStageOnOneExchangeLongerThanTheBoundIsDownByNameAndUpOnceItMovesOn() throws Exception {
        CountDownLatch serverBack = new CountDownLatch(1);
        try (CamelContext camel = new DefaultCamelContext()) {
            camel.getInflightRepository().setInflightBrowseEnabled(true);
            // a lambda, not a RouteBuilder of this package: the pipeline's package scan would take that one up
            RouteBuilder.addRoutes(camel, routes -> {
                routes.errorHandler(routes.defaultErrorHandler().maximumRedeliveries(-1).redeliveryDelay(20));
                routes.from("direct:load").routeId("load-somewhere")
                        .process(e -> {
                            if (serverBack.getCount() > 0) {
                                throw new java.net.ConnectException("Connection refused");
                            }
                        });
            });
            camel.start();
            StageStallCheck check = new StageStallCheck(Duration.ofMillis(300), null);
            check.setCamelContext(camel);
            assertEquals(HealthCheck.State.UP, check.call().getState());

            var sent = camel.createProducerTemplate().asyncSendBody("direct:load", "a record");
            HealthCheck.Result down = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                    .until(check::call, result -> result.getState() == HealthCheck.State.DOWN);
            String message = down.getMessage().orElseThrow();
            assertTrue(message.startsWith("stage load-somewhere has been on one record for "), message);
            assertTrue(message.contains("retries, last failure: ConnectException: Connection refused"), message);

            serverBack.countDown();
            sent.get(10, TimeUnit.SECONDS);
            assertEquals(HealthCheck.State.UP, check.call().getState());
        }
    }
}

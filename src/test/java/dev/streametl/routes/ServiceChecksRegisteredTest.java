package dev.streametl.routes;

import java.util.List;

import dev.streametl.App;
import org.apache.camel.CamelContext;
import org.apache.camel.EndpointInject;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckHelper;
import org.apache.camel.impl.health.AbstractHealthCheck;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The server checks are found by camel-health the camel-main way (beans of the @Configuration class ServiceChecks). */
@CamelMainTest(mainClass = App.class,
               propertyPlaceholderLocations = { "classpath:unit-test.properties", "classpath:application.properties" })
class ServiceChecksRegisteredTest {

    @EndpointInject("direct:orders")
    ProducerTemplate orders;

    @Test
    void theThreeServerChecksAreReadinessChecksOfTheContext() {
        CamelContext context = orders.getCamelContext();

        List<HealthCheck.Result> readiness = HealthCheckHelper.invokeReadiness(context).stream()
                .filter(result -> result.getCheck().getGroup().equals("services")).toList();
        List<HealthCheck.Result> liveness = HealthCheckHelper.invokeLiveness(context).stream()
                .filter(result -> result.getCheck().getGroup().equals("services")).toList();

        assertEquals(List.of("elasticsearch", "kafka", "postgresql"),
                readiness.stream().map(result -> result.getCheck().getId()).sorted().toList());
        assertFalse(readiness.stream().anyMatch(result -> result.getState() == HealthCheck.State.UNKNOWN));
        assertEquals(List.of(), liveness);
        for (HealthCheck.Result result : readiness) {
            assertSame(context, ((AbstractHealthCheck) result.getCheck()).getCamelContext(), result.getCheck().getId());
        }
    }
}

package dev.streametl.routes;

import dev.streametl.App;
import dev.streametl.pipeline.Customer;
import dev.streametl.pipeline.DeadLetter;
import org.apache.camel.EndpointInject;
import org.apache.camel.Exchange;
import org.apache.camel.FluentProducerTemplate;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.caffeine.CaffeineConstants;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.junit.jupiter.api.Test;

import static dev.streametl.routes.OrderEnrichmentRoutesTest.customerChange;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

@CamelMainTest(mainClass = App.class,
               propertyPlaceholderLocations = { "classpath:unit-test.properties", "classpath:application.properties" })
class CustomerTableRoutesTest {

    @EndpointInject("direct:customers")
    ProducerTemplate customers;
    @EndpointInject("caffeine-cache:customers")
    FluentProducerTemplate table;
    @EndpointInject("mock:dead-letters")
    MockEndpoint deadLetters;

    @Test
    void keepsTheLatestRowOfEachCustomer() {
        customers.sendBody(customerChange("r", 1, "Anna Berg", 41, "standard"));
        customers.sendBody(customerChange("r", 2, "Li Wei", 30, "premium"));
        customers.sendBody(customerChange("u", 1, "Anna Berg", 42, "premium"));

        assertEquals(new Customer(1, "Anna Berg", 42, "premium"), lookup(1).getMessage().getBody());
        assertEquals(new Customer(2, "Li Wei", 30, "premium"), lookup(2).getMessage().getBody());
    }

    @Test
    void forgetsADeletedCustomerAndIgnoresTheTombstone() {
        customers.sendBody(customerChange("r", 1, "Anna Berg", 41, "standard"));
        customers.sendBody("{\"before\":{\"id\":1,\"name\":\"Anna Berg\",\"age\":41,\"membership\":\"standard\"},"
                           + "\"after\":null,\"source\":{\"lsn\":2},\"op\":\"d\",\"ts_ms\":1}");
        customers.sendBodyAndHeader(null, KafkaConstants.KEY, "{\"id\":1}");

        assertFalse(lookup(1).getMessage().getHeader(CaffeineConstants.ACTION_HAS_RESULT, Boolean.class));
    }

    @Test
    void deadLettersARowOfTheWrongShape() throws Exception {
        deadLetters.expectedMessageCount(1);
        deadLetters.expectedHeaderReceived(DeadLetter.ROUTE, "customer-table");
        String bad = customerChange("c", 5, "Bo", 20, "standard").replace("\"age\":20", "\"age\":\"twenty\"");

        customers.sendBodyAndHeader(bad, KafkaConstants.OFFSET, 42L);

        deadLetters.assertIsSatisfied();
        assertEquals(bad, deadLetters.getExchanges().get(0).getMessage().getBody());
        assertEquals("42", deadLetters.getExchanges().get(0).getMessage().getHeader(DeadLetter.SOURCE_OFFSET));
    }

    private Exchange lookup(int id) {
        return table.withHeader(CaffeineConstants.ACTION, CaffeineConstants.ACTION_GET)
                .withHeader(CaffeineConstants.KEY, id).send();
    }
}

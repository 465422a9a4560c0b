package dev.streametl;

import dev.streametl.observe.PipelineMetrics;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.camel.api.management.ManagedCamelContext;
import org.apache.camel.main.Main;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The README's Hawtio command, {@code bin/hawtio}, on a running pipeline (real servers, management server on a free
 * port), driven in a real headless chromium: Hawtio's Camel routes view must list the pipeline's routes with their
 * message counts, and the route diagram must draw them. Leaves screenshots of both in {@code target/}
 * ({@code docs/hawtio-routes.png} comes from there).
 */
class HawtioTest {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final Path PROJECT = Path.of("").toAbsolutePath();
    /** CI sets CI=true: there the test must run, so a missing browser is a failure, not a skip. */
    static final boolean ON_CI = "true".equalsIgnoreCase(System.getenv("CI"));
    static final List<String> ROUTES = List.of("capture-changes", "customer-table", "order-enrichment", "enrich-order",
            "join-customer", "load-enriched-orders", "index-enriched-orders", "publish-enriched-orders",
            "high-value-prospects", "product-sales");

    @TempDir
    Path tempDir;

    RealServices real;
    Process hawtio;
    WebDriver browser;

    @Test
    void hawtioShowsThePipelineRoutes() throws Exception {
        boolean chromiumInstalled = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        String needs = "needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver; .ci/run does)";
        if (ON_CI) {
            assertTrue(chromiumInstalled, needs + ": under CI=true a missing browser fails the test instead of skipping it");
        }
        assumeTrue(chromiumInstalled, needs);
        real = RealServices.start(tempDir);
        int jolokiaPort = RealServices.freePort();
        Main pipeline = real.startPipeline(Map.of("camel.management.port", String.valueOf(jolokiaPort)));
        int hawtioPort = RealServices.freePort();
        ProcessBuilder command = new ProcessBuilder(PROJECT.resolve("bin/hawtio").toString())
                .directory(PROJECT.toFile()).redirectErrorStream(true)
                .redirectOutput(tempDir.resolve("hawtio.log").toFile());
        command.environment().put("JAVA_HOME", System.getProperty("java.home"));
        command.environment().put("HAWTIO_PORT", String.valueOf(hawtioPort));
        command.environment().put("ETL_MANAGEMENT_PORT", String.valueOf(jolokiaPort));
        hawtio = command.start();

        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.documents("enriched_orders").size() == 50);
        // the count Hawtio must show: the route's own, once the enrichment's consumers have settled and it stopped
        // moving (a rebalance mid-batch enriches that batch again: at least once, so 50 or more)
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.groupIsSettled("etl-order-enrichment", 3));
        long enriched = RealServices.awaitStable(() -> completed(pipeline, "enrich-order"), Duration.ofSeconds(60));
        // enrich-order is the content enricher of a batch: it ran at least once, and joined each of the 50 orders
        assertTrue(enriched >= 1, "enrich-order completed its batches: " + enriched);
        long orders = pipeline.getCamelContext().getRegistry().findSingleByType(PipelineMetrics.class).enriched();
        assertTrue(orders >= 50, "each of the 50 sample orders went through enrich-order: " + orders);
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500))
                .until(() -> status("http://localhost:" + hawtioPort + "/hawtio/") == 200);

        browser = chromium();
        browser.get("http://localhost:" + hawtioPort + "/"); // stores the connection, then opens Hawtio's Camel plugin
        By routesFolder = By.xpath("//*[contains(@class, 'tree-view__node-text') and normalize-space() = 'routes']");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).ignoreExceptions()
                .untilAsserted(() -> browser.findElement(routesFolder).click());

        WebElement table = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).ignoreExceptions()
                .until(() -> browser.findElements(By.tagName("table")).stream()
                        .filter(t -> ROUTES.stream().allMatch(route -> t.getText().contains(route))).findFirst(),
                        java.util.Optional::isPresent).orElseThrow();
        String routes = table.getText();
        for (String route : ROUTES) {
            assertTrue(routes.contains(route), route + " in Hawtio's routes view:\n" + routes);
        }
        // the message counts, as the pipeline has them
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).ignoreExceptions()
                .until(() -> cell("enrich-order", "Completed"), String.valueOf(enriched)::equals);
        assertEquals("Started", cell("order-enrichment", "State"));
        Files.copy(((ChromeDriver) browser).getScreenshotAs(OutputType.FILE).toPath(),
                PROJECT.resolve("target/hawtio-routes.png"), StandardCopyOption.REPLACE_EXISTING);

        browser.findElement(By.xpath("//*[normalize-space(text()) = 'Route Diagram']")).click();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).ignoreExceptions()
                .until(() -> browser.findElements(By.cssSelector(".react-flow__node")).size(), nodes -> nodes > 10);
        Files.copy(((ChromeDriver) browser).getScreenshotAs(OutputType.FILE).toPath(),
                PROJECT.resolve("target/hawtio-route-diagram.png"), StandardCopyOption.REPLACE_EXISTING);
    }

    /** How many exchanges a route of the pipeline has completed, from its own JMX statistics (what Jolokia serves). */
    private static long completed(Main pipeline, String routeId) throws Exception {
        return pipeline.getCamelContext().getCamelContextExtension().getContextPlugin(ManagedCamelContext.class)
                .getManagedRoute(routeId).getExchangesCompleted();
    }

    /** The text of a column of the routes table, in the row of a route. */
    private String cell(String route, String column) {
        WebElement table = browser.findElement(By.xpath("//table[.//th[normalize-space() = 'Completed']]"));
        List<String> headers = table.findElements(By.tagName("th")).stream().map(WebElement::getText).map(String::trim).toList();
        WebElement row = table.findElement(By.xpath(".//tr[td[normalize-space() = '" + route + "']]"));
        // the first column of a row is its checkbox, a td like the others
        return row.findElements(By.tagName("td")).get(headers.indexOf(column)).getText().trim();
    }

    private int status(String url) throws IOException, InterruptedException {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException notYet) {
            assertTrue(hawtio.isAlive(), "bin/hawtio exited: " + Files.readString(tempDir.resolve("hawtio.log")));
            return -1;
        }
    }

    /** Headless chromium with a fresh profile that does not try the network on its own. */
    private WebDriver chromium() {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + tempDir.resolve("chromium"), "--window-size=1280,1000");
        ChromeDriverService driver = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().withLogFile(tempDir.resolve("chromedriver.log").toFile()).build();
        return new ChromeDriver(driver, options);
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (browser != null) {
            browser.quit();
        }
        if (hawtio != null) {
            hawtio.destroy();
            if (!hawtio.waitFor(30, TimeUnit.SECONDS)) {
                hawtio.destroyForcibly();
            }
        }
        if (real != null) {
            real.close();
        }
    }
}

package dev.streametl;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestPlan;

/**
 * A time limit on the test class a Surefire fork runs (each class has a JVM of its own, pom.xml), a minute before
 * Surefire's own ({@code surefire.timeout}): Surefire kills a fork with {@code Runtime.halt}, which leaves the servers
 * and processes the class started running, slowing down every class after it. At this limit the class is stopped
 * instead: a thread dump says where it hung, the processes it started get SIGTERM, and {@code System.exit} runs the
 * shutdown hooks that stop PostgreSQL and Elasticsearch. Surefire then reports the class as crashed. JUnit's own
 * timeout of a test method (junit-platform.properties) comes first and lets the class clean up by itself; this is for
 * a class that does not end even then. Registered in META-INF/services.
 */
public final class TestClassTimeLimit implements TestExecutionListener {

    private static final Duration MARGIN = Duration.ofMinutes(1);

    @Override
    public void testPlanExecutionStarted(TestPlan testPlan) {
        long forkTimeoutSeconds = Long.getLong("surefire.timeout", 0);
        if (forkTimeoutSeconds <= MARGIN.toSeconds()) {
            return; // not under Surefire (an IDE), or no limit
        }
        Duration limit = Duration.ofSeconds(forkTimeoutSeconds).minus(MARGIN);
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(limit.toMillis());
            } catch (InterruptedException e) {
                return;
            }
            stop(testPlan, limit);
        }, "test-class-time-limit");
        watchdog.setDaemon(true); // a class that ends in time ends its JVM as usual
        watchdog.start();
    }

    private static void stop(TestPlan testPlan, Duration limit) {
        StringBuilder report = new StringBuilder("\n*** Test class still running after " + limit.toSeconds()
                + " s (the limit is a minute below -Dsurefire.timeout): stopping it, its processes and servers. Tests: ");
        testPlan.getRoots().forEach(root -> testPlan.getChildren(root)
                .forEach(child -> report.append(child.getDisplayName()).append(' ')));
        report.append("\nThreads:\n");
        for (Map.Entry<Thread, StackTraceElement[]> thread : Thread.getAllStackTraces().entrySet()) {
            report.append('"').append(thread.getKey().getName()).append("\" ").append(thread.getKey().getState()).append('\n');
            for (StackTraceElement frame : thread.getValue()) {
                report.append("    at ").append(frame).append('\n');
            }
        }
        System.err.println(report);
        // the pipelines, Camel JBang and Hawtio the class started as processes: SIGTERM, as Ctrl-C would
        List<ProcessHandle> started = ProcessHandle.current().descendants().toList();
        started.forEach(ProcessHandle::destroy);
        CompletableFuture.allOf(started.stream().map(ProcessHandle::onExit).toArray(CompletableFuture[]::new))
                .completeOnTimeout(null, 30, TimeUnit.SECONDS).join();
        System.exit(1); // the shutdown hooks stop the servers
    }
}

package dev.streametl.embedded;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Stops server processes that we launched, or that a previous run left behind. */
final class ProcessTree {

    private static final Logger LOG = LoggerFactory.getLogger(ProcessTree.class);
    private static final Duration KILL_WAIT = Duration.ofSeconds(5);

    private ProcessTree() {
    }

    /**
     * Stops a server process tree: SIGTERM to the process that owns the server, a grace period for the whole tree
     * to exit, then SIGKILL for whatever is left. When {@code rootIsWrapper} (runuser), the signal goes to the
     * wrapper's children instead: runuser answers SIGTERM by SIGKILLing its child two seconds later, which would
     * cut the server's clean shutdown short; it exits by itself once its child has.
     */
    static void stop(ProcessHandle root, boolean rootIsWrapper, Duration grace) {
        List<ProcessHandle> tree = new ArrayList<>(root.descendants().toList());
        tree.add(root);
        List<ProcessHandle> owners = rootIsWrapper ? root.children().toList() : List.of();
        (owners.isEmpty() ? List.of(root) : owners).forEach(ProcessHandle::destroy);
        awaitExit(tree, grace);
        killSurvivors(tree);
    }

    /**
     * Stops the process a pid file names, if it still runs and its command line contains {@code marker}: a run
     * that was killed with SIGKILL leaves its server orphaned, holding the port and the data directory lock.
     * The marker guards against a pid that the OS has since given to an unrelated process.
     */
    static void stopLeftover(Path pidFile, String marker, Duration grace) {
        if (!Files.isRegularFile(pidFile)) {
            return;
        }
        long pid;
        try {
            List<String> lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
            pid = Long.parseLong(lines.isEmpty() ? "" : lines.get(0).trim());
        } catch (IOException | NumberFormatException e) {
            LOG.debug("Ignoring unreadable pid file {}", pidFile, e);
            return;
        }
        ProcessHandle.of(pid)
                .filter(ProcessHandle::isAlive)
                .filter(process -> commandLine(process).contains(marker))
                .ifPresent(process -> {
                    LOG.warn("Stopping {} process {} left over from a previous run (pid file {})", marker, pid, pidFile);
                    stop(process, false, grace);
                });
    }

    /** The full command line; ProcessHandle.Info is often empty for processes of other users, /proc is not. */
    static String commandLine(ProcessHandle process) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(process.pid()), "cmdline"));
            return new String(raw, StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException | RuntimeException e) {
            return process.info().commandLine().orElse("");
        }
    }

    private static void killSurvivors(List<ProcessHandle> processes) {
        List<ProcessHandle> survivors = processes.stream().filter(ProcessHandle::isAlive).toList();
        if (survivors.isEmpty()) {
            return;
        }
        LOG.warn("Killing processes {} that did not stop in time", survivors.stream().map(ProcessHandle::pid).toList());
        survivors.forEach(ProcessHandle::destroyForcibly);
        awaitExit(survivors, KILL_WAIT);
    }

    private static void awaitExit(List<ProcessHandle> processes, Duration timeout) {
        CompletableFuture<?>[] exits = processes.stream().map(ProcessHandle::onExit).toArray(CompletableFuture[]::new);
        try {
            CompletableFuture.allOf(exits).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            // the caller escalates
        } catch (ExecutionException e) {
            LOG.debug("Waiting for process exit failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

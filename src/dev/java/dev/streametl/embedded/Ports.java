package dev.streametl.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** TCP port choices for the embedded servers, which all listen on the loopback interface only. */
final class Ports {

    private Ports() {
    }

    /** Every port {@link #freePort()} has handed out in this JVM. */
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    /**
     * A port nobody listens on right now, and never handed out before by this JVM. The OS may give the same free port
     * twice until someone binds it: two servers starting at once (Kafka's controller and Elasticsearch's transport)
     * were given the same one and the second failed. Another process could still take it before we bind.
     */
    static int freePort() {
        for (int attempt = 1; ; attempt++) {
            int port;
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = socket.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException("no free TCP port on the loopback interface", e);
            }
            if ((isFree(port) && HANDED_OUT.add(port)) || attempt == 20) {
                return port;
            }
        }
    }

    /** True if nothing listens on 127.0.0.1:port (a port in TIME_WAIT counts as free, as it does for the servers). */
    static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The port a server should bind: a free one for 0, else the requested one, checked up front so that a clash
     * gives one clear message instead of a bind error buried in a server log.
     */
    static int choose(int requested, String service) {
        if (requested < 0 || requested > 65535) {
            throw new IllegalArgumentException(service + " port out of range: " + requested);
        }
        if (requested == 0) {
            return freePort();
        }
        if (!isFree(requested)) {
            throw new IllegalStateException(service + " cannot start: port " + requested
                    + " on 127.0.0.1 is already in use. Stop whatever listens there, or configure that address"
                    + " as an external " + service + " (a non-loopback host, or etl.embedded.enabled=false).");
        }
        return requested;
    }

    /**
     * A second port a server needs besides its main one. Next to a main port given by the user (9092 -> 9093) when that
     * is free, as users expect; otherwise a free port. A main port picked freely gets no neighbour: the OS hands the
     * ports right next to it to outgoing connections, so a neighbour that is free now can be taken a moment later.
     */
    static int besides(int requestedMain, int chosenMain, int offset) {
        int neighbour = chosenMain + offset;
        return requestedMain != 0 && neighbour <= 65535 && isFree(neighbour) ? neighbour : freePort();
    }
}

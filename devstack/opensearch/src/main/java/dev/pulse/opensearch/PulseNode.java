package dev.pulse.opensearch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

/**
 * A single-node OpenSearch for the Pulse dev stack, started from Maven Central jars.
 *
 * <p>The modules a distribution ships under {@code modules/} are loaded as classpath plugins, the way
 * OpenSearch's own test {@code MockNode} does it. No security plugin, no bootstrap checks, no security
 * manager: this is a dev/test node bound to 127.0.0.1 only.
 *
 * <p>Usage (every option can also be given as a system property {@code -Dpulse.opensearch.<name>=...}):
 * <pre>
 *   java -cp 'lib/*:classes' dev.pulse.opensearch.PulseNode \
 *       --home DIR --http-port 9200 --transport-port 9300 --cluster-name pulse-dev \
 *       [--node-name NAME] [--data DIR] [--logs DIR] [--bind 127.0.0.1] [-E key=value ...]
 * </pre>
 * Logs go to stdout (the caller redirects them to a file). SIGTERM/SIGINT close the node cleanly.
 */
public final class PulseNode extends Node {

    /** Module plugins loaded from the classpath; first class name that exists wins (names changed in 3.x). */
    private static final String[][] MODULE_PLUGINS = {
        {"org.opensearch.transport.Netty4ModulePlugin", "org.opensearch.transport.Netty4Plugin"},
        {"org.opensearch.analysis.common.CommonAnalysisModulePlugin", "org.opensearch.analysis.common.CommonAnalysisPlugin"},
        {"org.opensearch.painless.PainlessModulePlugin", "org.opensearch.painless.PainlessPlugin"},
        {"org.opensearch.index.mapper.MapperExtrasModulePlugin", "org.opensearch.index.mapper.MapperExtrasPlugin"},
    };

    private PulseNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
        super(environment, plugins, true);
    }

    public static void main(String[] args) throws Exception {
        final Map<String, String> opts;
        final Settings.Builder extra = Settings.builder();
        try {
            opts = parseArgs(args, extra);
        } catch (IllegalArgumentException e) {
            System.err.println("PulseNode: " + e.getMessage());
            System.exit(64);
            return;
        }

        final Path home = Paths.get(opt(opts, "home", "./opensearch-home")).toAbsolutePath().normalize();
        final Path data = Paths.get(opt(opts, "data", home.resolve("data").toString())).toAbsolutePath();
        final Path logs = Paths.get(opt(opts, "logs", home.resolve("logs").toString())).toAbsolutePath();
        final Path config = home.resolve("config");
        for (Path p : new Path[] {home, data, logs, config}) {
            Files.createDirectories(p);
        }
        final String httpPort = opt(opts, "http-port", "9200");
        final String transportPort = opt(opts, "transport-port", "9300");
        final String clusterName = opt(opts, "cluster-name", "pulse-dev");
        final String nodeName = opt(opts, "node-name", "pulse-dev-node");
        final String bind = opt(opts, "bind", "127.0.0.1");

        final Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", data.toString())
            .put("path.logs", logs.toString())
            .put("cluster.name", clusterName)
            .put("node.name", nodeName)
            .put("network.host", bind)
            .put("http.port", httpPort)
            .put("transport.port", transportPort)
            .put("discovery.type", "single-node")
            .put("bootstrap.memory_lock", false)
            // dev boxes and CI runners are often >90% full: never go read-only because of disk watermarks
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            // small heaps + serial GC make the real-memory parent breaker trip on harmless bulk requests
            .put("indices.breaker.total.use_real_memory", false)
            // tests create many short-lived, uniquely named indices in one long-lived node
            .put("cluster.max_shards_per_node", 10000)
            .put(extra.build())
            .build();

        final Environment env = InternalSettingsPreparer.prepareEnvironment(
            settings, Collections.emptyMap(), config, () -> nodeName);

        // Logging before anything else logs: <home>/config/log4j2.properties (console on stdout);
        // levels can be changed with -E logger.level=debug or -E logger.org.opensearch.xyz=trace.
        LogConfigurator.registerErrorListener();
        LogConfigurator.setNodeName(nodeName);
        writeLogConfig(config);
        LogConfigurator.configure(env);

        final AtomicReference<PulseNode> running = new AtomicReference<>();
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                final PulseNode node = running.get();
                if (node != null) {
                    node.close();
                    if (!node.awaitClose(20, TimeUnit.SECONDS)) {
                        System.err.println("PulseNode: node did not close within 20s");
                    }
                }
            } catch (IOException | InterruptedException | RuntimeException e) {
                System.err.println("PulseNode: error while closing node: " + e);
            } finally {
                stopped.countDown();
            }
        }, "pulse-node-shutdown"));

        try {
            final PulseNode node = new PulseNode(env, modulePlugins());
            running.set(node);
            node.start();
        } catch (Throwable t) {
            System.err.println("PulseNode: failed to start: " + t);
            t.printStackTrace();
            // exit runs the shutdown hook, which closes whatever was started
            System.exit(1);
        }
        writePidFile(home);
        System.out.println("PulseNode: started http://" + bind + ":" + httpPort + " (cluster " + clusterName + ")");
        System.out.flush();

        // Like OpenSearch's Bootstrap keep-alive thread: the main thread waits until the shutdown hook has run.
        stopped.await();
    }

    @SuppressWarnings("unchecked")
    private static List<Class<? extends Plugin>> modulePlugins() {
        final List<Class<? extends Plugin>> plugins = new ArrayList<>();
        for (String[] candidates : MODULE_PLUGINS) {
            Class<? extends Plugin> found = null;
            for (String name : candidates) {
                try {
                    found = (Class<? extends Plugin>) Class.forName(name);
                    break;
                } catch (ClassNotFoundException ignored) {
                    // try the next name
                }
            }
            if (found == null) {
                throw new IllegalStateException("none of " + String.join(", ", candidates) + " is on the classpath");
            }
            plugins.add(found);
        }
        return plugins;
    }

    private static void writeLogConfig(Path config) throws IOException {
        try (InputStream in = PulseNode.class.getResourceAsStream("/pulse-log4j2.properties")) {
            if (in == null) {
                throw new IllegalStateException("pulse-log4j2.properties is not on the classpath");
            }
            Files.copy(in, config.resolve("log4j2.properties"), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void writePidFile(Path home) {
        try {
            Files.write(home.resolve("node.pid"),
                Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            System.err.println("PulseNode: could not write pid file: " + e);
        }
    }

    private static String opt(Map<String, String> opts, String name, String dflt) {
        final String fromArgs = opts.get(name);
        if (fromArgs != null) {
            return fromArgs;
        }
        return System.getProperty("pulse.opensearch." + name, dflt);
    }

    /** Parses {@code --name value}, {@code --name=value} and {@code -E key=value} / {@code -Ekey=value}. */
    static Map<String, String> parseArgs(String[] args, Settings.Builder extra) {
        final Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            final String a = args[i];
            if (a.startsWith("-E")) {
                final String kv = a.length() > 2 ? a.substring(2) : (i + 1 < args.length ? args[++i] : "");
                final int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("expected -E key=value, got: " + kv);
                }
                extra.put(kv.substring(0, eq), kv.substring(eq + 1));
            } else if (a.startsWith("--")) {
                final int eq = a.indexOf('=');
                if (eq > 0) {
                    opts.put(a.substring(2, eq), a.substring(eq + 1));
                } else if (i + 1 < args.length) {
                    opts.put(a.substring(2), args[++i]);
                } else {
                    throw new IllegalArgumentException("missing value for " + a);
                }
            } else {
                throw new IllegalArgumentException("unexpected argument: " + a);
            }
        }
        return opts;
    }
}

package demo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import demo.lib.Greeting;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Minimal stand-in for a Spring Boot service: logs in Spring Boot's format,
 * serves /actuator/health, /version and / on 127.0.0.1:${server.port}.
 *
 * Behaviour is driven by classpath resource app.properties:
 *   version=1.2.3        reported in logs and by /version and /
 *   fail=true|false      print Spring's "APPLICATION FAILED TO START" banner and exit 1
 *   startDelayMs=N       sleep N ms during startup (simulates a slow start)
 */
public final class DemoApp {
    private static final String LOGGER = "demo.DemoApp";
    private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");
    private static final long PID = ProcessHandle.current().pid();

    private DemoApp() {
    }

    public static void main(String[] args) throws Exception {
        final long startNanos = System.nanoTime();
        final long startMillis = System.currentTimeMillis();

        Properties props = loadProperties("app.properties");
        final String version = props.getProperty("version", "unknown").trim();
        final boolean fail = Boolean.parseBoolean(props.getProperty("fail", "false").trim());
        long startDelayMs = 0;
        try {
            startDelayMs = Long.parseLong(props.getProperty("startDelayMs", "0").trim());
        } catch (NumberFormatException e) {
            startDelayMs = 0;
        }

        String portProp = System.getProperty("server.port");
        if (portProp == null || portProp.trim().isEmpty()) {
            System.err.println("DemoApp: system property server.port is required (e.g. -Dserver.port=8080)");
            System.err.flush();
            System.exit(2);
            return;
        }
        final int port;
        try {
            port = Integer.parseInt(portProp.trim());
        } catch (NumberFormatException e) {
            System.err.println("DemoApp: invalid server.port '" + portProp + "'");
            System.err.flush();
            System.exit(2);
            return;
        }

        log("INFO", "Starting DemoApp v" + version + " using Java " + Runtime.version().feature()
                + " with PID " + PID);
        log("INFO", "Library demo-greeting v" + Greeting.version());
        log("INFO", "No active profile set, falling back to 1 default profile: \"default\"");

        if (startDelayMs > 0) {
            Thread.sleep(startDelayMs);
        }

        if (fail) {
            failBanner("Startup failure requested by the application configuration (app.properties: fail=true).",
                    "Deploy a build that was not made with --fail.");
            System.exit(1);
            return;
        }

        final HttpServer server;
        final ExecutorService executor = Executors.newFixedThreadPool(4);
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 50);
        } catch (BindException e) {
            executor.shutdownNow();
            failBanner("Web server failed to start. Port " + port + " was already in use.",
                    "Identify and stop the process that's listening on port " + port
                            + " or configure this application to listen on another port.");
            System.exit(1);
            return;
        }
        server.setExecutor(executor);
        server.createContext("/", exchange -> handle(exchange, version));
        server.start();
        log("INFO", "HttpServer started on port(s): " + port + " (http) with context path ''");

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log("INFO", "Stopping DemoApp");
            server.stop(0);
            executor.shutdownNow();
        }, "shutdown"));

        double startedSecs = (System.nanoTime() - startNanos) / 1e9;
        // JVM start time as Spring reports it (ProcessHandle's startInstant is only
        // accurate to a second on Linux because /proc's btime is whole seconds).
        long jvmStart;
        try {
            jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
        } catch (Throwable t) {
            jvmStart = startMillis;
        }
        double runningSecs = Math.max(0L, System.currentTimeMillis() - jvmStart) / 1000.0;
        log("INFO", String.format("Started DemoApp in %.3f seconds (process running for %.3f)",
                startedSecs, runningSecs));
    }

    private static void handle(HttpExchange ex, String version) throws IOException {
        try {
            String method = ex.getRequestMethod();
            String path = ex.getRequestURI().getPath();
            boolean get = "GET".equals(method) || "HEAD".equals(method);
            if ("/actuator/health".equals(path) && get) {
                send(ex, 200, "application/json", "{\"status\":\"UP\"}");
            } else if ("/version".equals(path) && get) {
                send(ex, 200, "text/plain; charset=utf-8", "app=" + version + " lib=" + Greeting.version());
            } else if ("/".equals(path) && get) {
                send(ex, 200, "text/plain; charset=utf-8", "hello from " + version);
            } else if ("/actuator/health".equals(path) || "/version".equals(path) || "/".equals(path)) {
                ex.getResponseHeaders().set("Allow", "GET, HEAD");
                send(ex, 405, "text/plain; charset=utf-8", "method not allowed");
            } else {
                send(ex, 404, "text/plain; charset=utf-8", "not found");
            }
        } finally {
            ex.close();
        }
    }

    private static void send(HttpExchange ex, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", contentType);
        if ("HEAD".equals(ex.getRequestMethod())) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void failBanner(String description, String action) {
        log("ERROR", "");
        synchronized (System.out) {
            System.out.println();
            System.out.println("***************************");
            System.out.println("APPLICATION FAILED TO START");
            System.out.println("***************************");
            System.out.println();
            System.out.println("Description:");
            System.out.println();
            System.out.println(description);
            System.out.println();
            System.out.println("Action:");
            System.out.println();
            System.out.println(action);
            System.out.println();
            System.out.flush();
        }
    }

    private static Properties loadProperties(String name) {
        Properties props = new Properties();
        ClassLoader cl = DemoApp.class.getClassLoader();
        try (InputStream in = cl == null ? null : cl.getResourceAsStream(name)) {
            if (in != null) {
                props.load(in);
            }
        } catch (IOException e) {
            // use defaults
        }
        return props;
    }

    /** One line in Spring Boot's default console format, flushed immediately. */
    static void log(String level, String message) {
        String line = String.format("%s %5s %d --- [%s] %s : %s",
                LocalDateTime.now().format(TS), level, PID, Thread.currentThread().getName(), LOGGER, message);
        synchronized (System.out) {
            System.out.println(line);
            System.out.flush();
        }
    }
}

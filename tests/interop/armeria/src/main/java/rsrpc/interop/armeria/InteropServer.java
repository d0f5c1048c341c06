package rsrpc.interop.armeria;

import com.linecorp.armeria.common.SessionProtocol;
import com.linecorp.armeria.common.logging.LogLevel;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.logging.LoggingService;
import com.linecorp.armeria.server.grpc.GrpcService;
import io.grpc.ServerInterceptors;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Armeria server serving grpc.testing.TestService over cleartext HTTP/1.1 and HTTP/2 (prior
 * knowledge and h2c upgrade) on one port: Armeria's {@code SessionProtocol.HTTP} port accepts
 * all three.
 */
final class InteropServer {
    private InteropServer() {}

    static int run(String[] args) {
        Flags flags = Flags.parse(args, Set.of("port", "host"), Set.of("verbose"));
        int port = flags.getInt("port", 10000);
        String host = flags.get("host", "127.0.0.1");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("bad --port " + port);
        }

        GrpcService grpc = GrpcService.builder()
                .addService(ServerInterceptors.intercept(new TestServiceImpl(),
                                                         new EchoMetadataInterceptor()))
                // Handlers run on the event loop (they never block; see TestServiceImpl).
                .useBlockingTaskExecutor(false)
                // Only framed gRPC (application/grpc[+proto]); no gRPC-Web, no unframed JSON.
                .enableUnframedRequests(false)
                .build();

        ServerBuilder sb = Server.builder();
        if (flags.getBool("verbose")) {
            // One INFO line per request and per response (headers, trailers, gRPC status) on stderr.
            sb.decorator(LoggingService.builder()
                                 .requestLogLevel(LogLevel.INFO)
                                 .successfulResponseLogLevel(LogLevel.INFO)
                                 .failureResponseLogLevel(LogLevel.WARN)
                                 // Headers and trailers only: the payloads are ~300 KB of zeros.
                                 .requestContentSanitizer((ctx, content) -> "<content omitted>")
                                 .responseContentSanitizer((ctx, content) -> "<content omitted>")
                                 .newDecorator());
        }
        Server server = sb
                .port(new InetSocketAddress(host, port), SessionProtocol.HTTP)
                .service(grpc)
                // GrpcService replaces this with the call's grpc-timeout, or with no timeout at
                // all when the header is absent; it only bounds other (404) requests.
                .requestTimeout(Duration.ofMinutes(5))
                .maxRequestLength(64L * 1024 * 1024)
                .gracefulShutdownTimeout(Duration.ZERO, Duration.ZERO)
                .build();

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("shutting down");
            // Server.stop() closes the listening socket at once but then waits ~2 s for Netty's
            // event loops to go quiet; a test peer need not wait for that.
            try {
                server.stop().get(500, TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                // Timed out (or failed): the JVM halts right after this hook anyway.
            }
        }, "interop-server-shutdown"));

        server.start().join();
        System.err.println("listening on " + server.activeLocalPort(SessionProtocol.HTTP));
        System.err.flush();
        // Runs until SIGTERM/SIGINT (shutdown hook above) stops the server.
        server.whenClosed().join();
        return 0;
    }
}

package rsrpc.interop.armeria;

import com.linecorp.armeria.common.SessionProtocol;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.grpc.GrpcService;
import io.grpc.ServerInterceptors;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Set;

/**
 * Armeria server serving grpc.testing.TestService over cleartext HTTP/1.1 and HTTP/2 (prior
 * knowledge and h2c upgrade) on one port: Armeria's {@code SessionProtocol.HTTP} port accepts
 * all three.
 */
final class InteropServer {
    private InteropServer() {}

    static int run(String[] args) {
        Flags flags = Flags.parse(args, Set.of("port", "host"), Set.of());
        int port = flags.getInt("port", 10000);
        String host = flags.get("host", "127.0.0.1");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("bad --port " + port);
        }

        GrpcService grpc = GrpcService.builder()
                .addService(ServerInterceptors.intercept(new TestServiceImpl(),
                                                         new EchoMetadataInterceptor()))
                // The handlers sleep for interval_us: keep them off the event loops.
                .useBlockingTaskExecutor(true)
                // Only framed gRPC (application/grpc[+proto]); no gRPC-Web, no unframed JSON.
                .enableUnframedRequests(false)
                .build();

        Server server = Server.builder()
                .port(new InetSocketAddress(host, port), SessionProtocol.HTTP)
                .service(grpc)
                // Calls without grpc-timeout must not be cut at Armeria's 10 s default;
                // calls with it get the client's deadline.
                .requestTimeout(Duration.ofMinutes(5))
                .maxRequestLength(64L * 1024 * 1024)
                .gracefulShutdownTimeout(Duration.ZERO, Duration.ofSeconds(2))
                .build();

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("shutting down");
            server.stop().join();
        }, "interop-server-shutdown"));

        server.start().join();
        System.err.println("listening on " + server.activeLocalPort(SessionProtocol.HTTP));
        System.err.flush();
        // Runs until SIGTERM/SIGINT (shutdown hook above) stops the server.
        server.whenClosed().join();
        return 0;
    }
}

package rsrpc.interop.armeria;

import static rsrpc.interop.armeria.TestServiceImpl.zeros;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.SessionProtocol;
import com.google.protobuf.ByteString;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.integration.EmptyProtos.Empty;
import io.grpc.testing.integration.Messages.EchoStatus;
import io.grpc.testing.integration.Messages.Payload;
import io.grpc.testing.integration.Messages.PayloadType;
import io.grpc.testing.integration.Messages.ResponseParameters;
import io.grpc.testing.integration.Messages.SimpleRequest;
import io.grpc.testing.integration.Messages.SimpleResponse;
import io.grpc.testing.integration.Messages.StreamingInputCallRequest;
import io.grpc.testing.integration.Messages.StreamingInputCallResponse;
import io.grpc.testing.integration.Messages.StreamingOutputCallRequest;
import io.grpc.testing.integration.Messages.StreamingOutputCallResponse;
import io.grpc.testing.integration.TestServiceGrpc;
import io.grpc.testing.integration.UnimplementedServiceGrpc;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Armeria gRPC client running the interop cases of grpc/grpc's
 * doc/interop-test-descriptions.md against --server_host:--server_port over cleartext HTTP/2
 * ({@code --transport h2}, Armeria's {@code h2c}, prior knowledge) or HTTP/1.1
 * ({@code --transport h1}, Armeria's {@code h1c}: chunked request/response bodies, gRPC status
 * in HTTP/1.1 trailers).
 */
final class InteropClient {
    /** Deadline of every call whose case does not dictate one. */
    static final long RPC_DEADLINE_SECONDS = 30;
    /** A case that has not finished after this long is reported as failed (never hang). */
    static final long CASE_WATCHDOG_SECONDS = 45;

    static final String ECHO_INITIAL_VALUE = "test_initial_metadata_value";
    static final byte[] ECHO_TRAILING_VALUE = {(byte) 0xab, (byte) 0xab, (byte) 0xab};
    static final String SPECIAL_STATUS_MESSAGE =
            "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \uD83D\uDE08\t\n";

    static final int[] CLIENT_STREAMING_SIZES = {27182, 8, 1828, 45904};
    static final int[] SERVER_STREAMING_SIZES = {31415, 9, 2653, 58979};

    private final TestServiceGrpc.TestServiceBlockingStub blocking;
    private final TestServiceGrpc.TestServiceStub async;
    private final UnimplementedServiceGrpc.UnimplementedServiceBlockingStub unimplemented;

    private InteropClient(TestServiceGrpc.TestServiceBlockingStub blocking,
                          TestServiceGrpc.TestServiceStub async,
                          UnimplementedServiceGrpc.UnimplementedServiceBlockingStub unimplemented) {
        this.blocking = blocking;
        this.async = async;
        this.unimplemented = unimplemented;
    }

    /** A failed assertion of a case. */
    static final class CaseFailed extends RuntimeException {
        CaseFailed(String message) {
            super(message);
        }
    }

    interface Case {
        void run() throws Exception;
    }

    static int run(String[] args) {
        Flags flags = Flags.parse(args,
                Set.of("server_host", "server_port", "transport", "test_case"),
                Set.of());
        String host = flags.get("server_host", "127.0.0.1");
        int port = flags.getInt("server_port", 10000);
        String transport = flags.get("transport", "h2");
        SessionProtocol protocol;
        switch (transport) {
            case "h2":
            case "h2c":
                protocol = SessionProtocol.H2C;
                break;
            case "h1":
            case "h1c":
                protocol = SessionProtocol.H1C;
                break;
            default:
                throw new IllegalArgumentException("--transport must be h1 or h2, got " + transport);
        }

        ClientFactory factory = ClientFactory.builder()
                // h2c: start with the HTTP/2 connection preface (prior knowledge), no upgrade.
                .useHttp2Preface(true)
                .build();
        String uri = protocol.uriText() + "://" + hostForUri(host) + ":" + port + "/";

        TestServiceGrpc.TestServiceBlockingStub blocking =
                builder(uri, factory).build(TestServiceGrpc.TestServiceBlockingStub.class);
        TestServiceGrpc.TestServiceStub async =
                builder(uri, factory).build(TestServiceGrpc.TestServiceStub.class);
        UnimplementedServiceGrpc.UnimplementedServiceBlockingStub unimplemented =
                builder(uri, factory).build(UnimplementedServiceGrpc.UnimplementedServiceBlockingStub.class);
        InteropClient client = new InteropClient(blocking, async, unimplemented);

        Map<String, Case> all = client.cases();
        List<String> names = new ArrayList<>();
        String testCase = flags.get("test_case", "all");
        for (String name : testCase.split(",")) {
            name = name.trim();
            if (name.isEmpty()) {
                continue;
            }
            if (name.equals("all")) {
                names.addAll(all.keySet());
            } else {
                names.add(name);
            }
        }
        if (names.isEmpty()) {
            throw new IllegalArgumentException("no --test_case given");
        }

        System.err.println("armeria client: " + uri + " cases " + names);
        ExecutorService runner = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "interop-case");
            t.setDaemon(true);
            return t;
        });
        int failed = 0;
        for (String name : names) {
            Case c = all.get(name);
            String failure;
            if (c == null) {
                failure = "unknown test case (known: " + String.join(",", all.keySet()) + ")";
            } else {
                failure = runCase(runner, c);
            }
            if (failure == null) {
                System.out.println("PASS " + name);
            } else {
                failed++;
                System.out.println("FAIL " + name + ": " + failure.replace('\n', ' '));
            }
            System.out.flush();
        }
        runner.shutdownNow();
        factory.closeAsync();
        return failed == 0 ? 0 : 1;
    }

    private static com.linecorp.armeria.client.grpc.GrpcClientBuilder builder(String uri,
                                                                              ClientFactory factory) {
        return GrpcClients.builder(uri)
                .factory(factory)
                // Upper bound for calls; every call also carries its own (shorter) deadline.
                .responseTimeout(Duration.ofSeconds(RPC_DEADLINE_SECONDS + 5))
                .writeTimeout(Duration.ofSeconds(RPC_DEADLINE_SECONDS))
                .maxRequestMessageLength(64 * 1024 * 1024)
                .maxResponseMessageLength(64 * 1024 * 1024)
                .maxResponseLength(64L * 1024 * 1024);
    }

    private static String hostForUri(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /** Runs one case under the watchdog; returns null on success, else the reason. */
    private static String runCase(ExecutorService runner, Case c) {
        Future<?> f = runner.submit(() -> {
            c.run();
            return null;
        });
        try {
            f.get(CASE_WATCHDOG_SECONDS, TimeUnit.SECONDS);
            return null;
        } catch (TimeoutException e) {
            f.cancel(true);
            return "did not finish within " + CASE_WATCHDOG_SECONDS + " s";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof CaseFailed) {
                return cause.getMessage();
            }
            if (cause instanceof StatusRuntimeException) {
                return "unexpected RPC error " + describe(((StatusRuntimeException) cause).getStatus());
            }
            return "unexpected exception " + cause;
        }
    }

    private Map<String, Case> cases() {
        Map<String, Case> m = new LinkedHashMap<>();
        m.put("empty_unary", this::emptyUnary);
        m.put("large_unary", this::largeUnary);
        m.put("client_streaming", this::clientStreaming);
        m.put("server_streaming", this::serverStreaming);
        m.put("ping_pong", this::pingPong);
        m.put("empty_stream", this::emptyStream);
        m.put("custom_metadata", this::customMetadata);
        m.put("status_code_and_message", this::statusCodeAndMessage);
        m.put("special_status_message", this::specialStatusMessage);
        m.put("unimplemented_method", this::unimplementedMethod);
        m.put("unimplemented_service", this::unimplementedService);
        m.put("cancel_after_begin", this::cancelAfterBegin);
        m.put("cancel_after_first_response", this::cancelAfterFirstResponse);
        m.put("timeout_on_sleeping_server", this::timeoutOnSleepingServer);
        return m;
    }

    // ---------------------------------------------------------------- helpers

    static void check(boolean condition, String message) {
        if (!condition) {
            throw new CaseFailed(message);
        }
    }

    static String describe(Status status) {
        String s = status.getCode() + " " + quote(status.getDescription());
        if (status.getCause() != null && status.getDescription() == null) {
            s += " (cause: " + status.getCause() + ")";
        }
        return s;
    }

    static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            if (cp == '\n') {
                b.append("\\n");
            } else if (cp == '\r') {
                b.append("\\r");
            } else if (cp == '\t') {
                b.append("\\t");
            } else if (cp == '"' || cp == '\\') {
                b.append('\\').appendCodePoint(cp);
            } else if (cp < 0x20 || cp > 0x7e) {
                b.append(String.format("\\u{%x}", cp));
            } else {
                b.appendCodePoint(cp);
            }
        });
        return b.append('"').toString();
    }

    private TestServiceGrpc.TestServiceBlockingStub blocking() {
        return blocking.withDeadlineAfter(RPC_DEADLINE_SECONDS, TimeUnit.SECONDS);
    }

    private TestServiceGrpc.TestServiceStub async() {
        return async.withDeadlineAfter(RPC_DEADLINE_SECONDS, TimeUnit.SECONDS);
    }

    static void checkZeros(Payload payload, int size, String what) {
        ByteString body = payload.getBody();
        check(body.size() == size, what + ": payload body is " + body.size() + " bytes, want " + size);
        for (int i = 0; i < body.size(); i++) {
            if (body.byteAt(i) != 0) {
                throw new CaseFailed(what + ": payload byte " + i + " is not zero");
            }
        }
        check(payload.getType() == PayloadType.COMPRESSABLE,
              what + ": payload type is " + payload.getType() + ", want COMPRESSABLE");
    }

    static StreamingOutputCallRequest streamingRequest(int responseSize, int payloadSize) {
        return StreamingOutputCallRequest.newBuilder()
                .setResponseType(PayloadType.COMPRESSABLE)
                .addResponseParameters(ResponseParameters.newBuilder().setSize(responseSize))
                .setPayload(zeros(payloadSize))
                .build();
    }

    /** Collects a call's responses and its end, to be read with timeouts. */
    static final class Collector<T> implements StreamObserver<T> {
        private static final Object COMPLETED = new Object();
        private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        private Status status;

        @Override
        public void onNext(T value) {
            events.add(value);
        }

        @Override
        public void onError(Throwable t) {
            events.add(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            events.add(COMPLETED);
        }

        private Object poll() throws InterruptedException {
            Object e = events.poll(RPC_DEADLINE_SECONDS + 5, TimeUnit.SECONDS);
            if (e == null) {
                throw new CaseFailed("no response or status within " + (RPC_DEADLINE_SECONDS + 5) + " s");
            }
            if (e == COMPLETED) {
                status = Status.OK;
            } else if (e instanceof Status) {
                status = (Status) e;
            }
            return e;
        }

        /** The next response; fails if the call ended instead. */
        @SuppressWarnings("unchecked")
        T next(String what) throws InterruptedException {
            Object e = poll();
            if (status != null) {
                throw new CaseFailed(what + ": call ended with " + describe(status)
                                     + " instead of sending a response");
            }
            return (T) e;
        }

        /** Waits for the end of the call; fails if another response comes first. */
        Status end(String what) throws InterruptedException {
            Object e = poll();
            if (status == null) {
                throw new CaseFailed(what + ": unexpected extra response " + e);
            }
            return status;
        }
    }

    // ---------------------------------------------------------------- cases

    private void emptyUnary() {
        Empty response = blocking().emptyCall(Empty.getDefaultInstance());
        check(response != null && response.equals(Empty.getDefaultInstance()),
              "response is not an empty Empty: " + response);
    }

    private void largeUnary() {
        SimpleResponse response = blocking().unaryCall(SimpleRequest.newBuilder()
                .setResponseType(PayloadType.COMPRESSABLE)
                .setResponseSize(314159)
                .setPayload(zeros(271828))
                .build());
        checkZeros(response.getPayload(), 314159, "response");
    }

    private void clientStreaming() throws InterruptedException {
        Collector<StreamingInputCallResponse> responses = new Collector<>();
        StreamObserver<StreamingInputCallRequest> requests = async().streamingInputCall(responses);
        for (int size : CLIENT_STREAMING_SIZES) {
            requests.onNext(StreamingInputCallRequest.newBuilder().setPayload(zeros(size)).build());
        }
        requests.onCompleted();
        StreamingInputCallResponse response = responses.next("response");
        check(response.getAggregatedPayloadSize() == 74922,
              "aggregated_payload_size is " + response.getAggregatedPayloadSize() + ", want 74922");
        Status status = responses.end("status");
        check(status.isOk(), "call ended with " + describe(status));
    }

    private void serverStreaming() throws InterruptedException {
        StreamingOutputCallRequest.Builder request = StreamingOutputCallRequest.newBuilder()
                .setResponseType(PayloadType.COMPRESSABLE);
        for (int size : SERVER_STREAMING_SIZES) {
            request.addResponseParameters(ResponseParameters.newBuilder().setSize(size));
        }
        Collector<StreamingOutputCallResponse> responses = new Collector<>();
        async().streamingOutputCall(request.build(), responses);
        for (int i = 0; i < SERVER_STREAMING_SIZES.length; i++) {
            StreamingOutputCallResponse r = responses.next("response " + i);
            checkZeros(r.getPayload(), SERVER_STREAMING_SIZES[i], "response " + i);
        }
        Status status = responses.end("status");
        check(status.isOk(), "call ended with " + describe(status));
    }

    private void pingPong() throws InterruptedException {
        Collector<StreamingOutputCallResponse> responses = new Collector<>();
        StreamObserver<StreamingOutputCallRequest> requests = async().fullDuplexCall(responses);
        for (int i = 0; i < CLIENT_STREAMING_SIZES.length; i++) {
            requests.onNext(streamingRequest(SERVER_STREAMING_SIZES[i], CLIENT_STREAMING_SIZES[i]));
            StreamingOutputCallResponse r = responses.next("response " + i);
            checkZeros(r.getPayload(), SERVER_STREAMING_SIZES[i], "response " + i);
        }
        requests.onCompleted();
        Status status = responses.end("status");
        check(status.isOk(), "call ended with " + describe(status));
    }

    private void emptyStream() throws InterruptedException {
        Collector<StreamingOutputCallResponse> responses = new Collector<>();
        StreamObserver<StreamingOutputCallRequest> requests = async().fullDuplexCall(responses);
        requests.onCompleted();
        Status status = responses.end("status");
        check(status.isOk(), "call ended with " + describe(status));
    }

    private static Metadata echoMetadata() {
        Metadata md = new Metadata();
        md.put(EchoMetadataInterceptor.ECHO_INITIAL, ECHO_INITIAL_VALUE);
        md.put(EchoMetadataInterceptor.ECHO_TRAILING, ECHO_TRAILING_VALUE);
        return md;
    }

    private static void checkEchoedMetadata(String call, Metadata headers, Metadata trailers) {
        check(headers != null, call + ": no initial metadata received");
        String initial = headers.get(EchoMetadataInterceptor.ECHO_INITIAL);
        check(ECHO_INITIAL_VALUE.equals(initial),
              call + ": initial metadata x-grpc-test-echo-initial is " + quote(initial)
              + ", want " + quote(ECHO_INITIAL_VALUE));
        check(trailers != null, call + ": no trailing metadata received");
        byte[] trailing = trailers.get(EchoMetadataInterceptor.ECHO_TRAILING);
        check(trailing != null && Arrays.equals(trailing, ECHO_TRAILING_VALUE),
              call + ": trailing metadata x-grpc-test-echo-trailing-bin is "
              + (trailing == null ? "absent" : ByteString.copyFrom(trailing).toString())
              + ", want 0xababab");
    }

    private void customMetadata() throws InterruptedException {
        // UnaryCall
        {
            AtomicReference<Metadata> headers = new AtomicReference<>();
            AtomicReference<Metadata> trailers = new AtomicReference<>();
            SimpleResponse response = blocking()
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(echoMetadata()),
                                      MetadataUtils.newCaptureMetadataInterceptor(headers, trailers))
                    .unaryCall(SimpleRequest.newBuilder()
                            .setResponseType(PayloadType.COMPRESSABLE)
                            .setResponseSize(314159)
                            .setPayload(zeros(271828))
                            .build());
            checkZeros(response.getPayload(), 314159, "UnaryCall response");
            checkEchoedMetadata("UnaryCall", headers.get(), trailers.get());
        }
        // FullDuplexCall
        {
            AtomicReference<Metadata> headers = new AtomicReference<>();
            AtomicReference<Metadata> trailers = new AtomicReference<>();
            Collector<StreamingOutputCallResponse> responses = new Collector<>();
            StreamObserver<StreamingOutputCallRequest> requests = async()
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(echoMetadata()),
                                      MetadataUtils.newCaptureMetadataInterceptor(headers, trailers))
                    .fullDuplexCall(responses);
            requests.onNext(streamingRequest(314159, 271828));
            requests.onCompleted();
            StreamingOutputCallResponse r = responses.next("FullDuplexCall response");
            checkZeros(r.getPayload(), 314159, "FullDuplexCall response");
            Status status = responses.end("FullDuplexCall status");
            check(status.isOk(), "FullDuplexCall ended with " + describe(status));
            checkEchoedMetadata("FullDuplexCall", headers.get(), trailers.get());
        }
    }

    private static void checkStatus(String call, Status status, Status.Code code, String message) {
        check(status.getCode() == code && message.equals(status.getDescription()),
              call + ": status is " + describe(status) + ", want " + code + " " + quote(message));
    }

    private void statusCodeAndMessage() throws InterruptedException {
        String message = "test status message";
        EchoStatus echo = EchoStatus.newBuilder().setCode(2).setMessage(message).build();
        // UnaryCall
        try {
            blocking().unaryCall(SimpleRequest.newBuilder().setResponseStatus(echo).build());
            throw new CaseFailed("UnaryCall succeeded, want UNKNOWN");
        } catch (StatusRuntimeException e) {
            checkStatus("UnaryCall", e.getStatus(), Status.Code.UNKNOWN, message);
        }
        // FullDuplexCall
        Collector<StreamingOutputCallResponse> responses = new Collector<>();
        StreamObserver<StreamingOutputCallRequest> requests = async().fullDuplexCall(responses);
        requests.onNext(StreamingOutputCallRequest.newBuilder().setResponseStatus(echo).build());
        requests.onCompleted();
        checkStatus("FullDuplexCall", responses.end("FullDuplexCall status"), Status.Code.UNKNOWN, message);
    }

    private void specialStatusMessage() {
        EchoStatus echo = EchoStatus.newBuilder().setCode(2).setMessage(SPECIAL_STATUS_MESSAGE).build();
        try {
            blocking().unaryCall(SimpleRequest.newBuilder().setResponseStatus(echo).build());
            throw new CaseFailed("UnaryCall succeeded, want UNKNOWN");
        } catch (StatusRuntimeException e) {
            checkStatus("UnaryCall", e.getStatus(), Status.Code.UNKNOWN, SPECIAL_STATUS_MESSAGE);
        }
    }

    private void unimplementedMethod() {
        try {
            blocking().unimplementedCall(Empty.getDefaultInstance());
            throw new CaseFailed("UnimplementedCall succeeded, want UNIMPLEMENTED");
        } catch (StatusRuntimeException e) {
            check(e.getStatus().getCode() == Status.Code.UNIMPLEMENTED,
                  "status is " + describe(e.getStatus()) + ", want UNIMPLEMENTED");
        }
    }

    private void unimplementedService() {
        try {
            unimplemented.withDeadlineAfter(RPC_DEADLINE_SECONDS, TimeUnit.SECONDS)
                    .unimplementedCall(Empty.getDefaultInstance());
            throw new CaseFailed("UnimplementedService.UnimplementedCall succeeded, want UNIMPLEMENTED");
        } catch (StatusRuntimeException e) {
            check(e.getStatus().getCode() == Status.Code.UNIMPLEMENTED,
                  "status is " + describe(e.getStatus()) + ", want UNIMPLEMENTED");
        }
    }

    /**
     * Makes sure a connection to the server is up before a case whose call would otherwise end
     * before Armeria even connected: with a fresh client, a call cancelled right away or given a
     * 1 ms deadline fails inside the client and never reaches the server at all.
     */
    private void warmUp() {
        try {
            blocking().emptyCall(Empty.getDefaultInstance());
        } catch (StatusRuntimeException e) {
            throw new CaseFailed("warm-up EmptyCall (to open the connection) failed: "
                                 + describe(e.getStatus()));
        }
    }

    private void cancelAfterBegin() throws InterruptedException {
        warmUp();
        Collector<StreamingInputCallResponse> responses = new Collector<>();
        ClientCallStreamObserver<StreamingInputCallRequest> requests =
                (ClientCallStreamObserver<StreamingInputCallRequest>) async().streamingInputCall(responses);
        requests.cancel("cancel_after_begin", null);
        Status status = responses.end("status");
        check(status.getCode() == Status.Code.CANCELLED,
              "status is " + describe(status) + ", want CANCELLED");
    }

    private void cancelAfterFirstResponse() throws InterruptedException {
        Collector<StreamingOutputCallResponse> responses = new Collector<>();
        ClientCallStreamObserver<StreamingOutputCallRequest> requests =
                (ClientCallStreamObserver<StreamingOutputCallRequest>) async().fullDuplexCall(responses);
        requests.onNext(streamingRequest(31415, 27182));
        StreamingOutputCallResponse r = responses.next("response");
        checkZeros(r.getPayload(), 31415, "response");
        requests.cancel("cancel_after_first_response", null);
        Status status = responses.end("status");
        check(status.getCode() == Status.Code.CANCELLED,
              "status is " + describe(status) + ", want CANCELLED");
    }

    private void timeoutOnSleepingServer() throws InterruptedException {
        warmUp();
        Collector<StreamingOutputCallResponse> responses = new Collector<>();
        StreamObserver<StreamingOutputCallRequest> requests =
                async.withDeadlineAfter(1, TimeUnit.MILLISECONDS).fullDuplexCall(responses);
        try {
            requests.onNext(StreamingOutputCallRequest.newBuilder().setPayload(zeros(27182)).build());
        } catch (RuntimeException e) {
            // The spec allows this send to fail: the deadline may already have passed.
        }
        Status status;
        while (true) {
            // A (misbehaving) server might still answer; skip responses until the end.
            try {
                status = responses.end("status");
                break;
            } catch (CaseFailed e) {
                if (!e.getMessage().contains("unexpected extra response")) {
                    throw e;
                }
            }
        }
        check(status.getCode() == Status.Code.DEADLINE_EXCEEDED,
              "status is " + describe(status) + ", want DEADLINE_EXCEEDED");
        try {
            requests.onCompleted();
        } catch (RuntimeException e) {
            // already closed
        }
    }
}

package rsrpc.interop.armeria;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * grpc.testing.TestService as described by grpc/grpc's doc/interop-test-descriptions.md
 * ("Server" section). UnimplementedCall is deliberately not overridden, so the generated base
 * class answers UNIMPLEMENTED.
 *
 * <p>The handlers run on Armeria's event loop (no blocking task executor: with one, Armeria
 * starts the call on another thread and a request timeout that fires first is answered with a
 * plain HTTP 408 instead of a gRPC status). So nothing here blocks: each call's responses go
 * through a {@link Sequencer}, which runs them in order and waits {@code interval_us} before a
 * response on a timer instead of sleeping.
 */
final class TestServiceImpl extends TestServiceGrpc.TestServiceImplBase {

    /** Runs the delayed steps of all calls (daemon, so it never keeps the JVM alive). */
    private static final ExecutorService DELAYED_STEPS = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "interop-delayed-responses");
        t.setDaemon(true);
        return t;
    });

    static Payload zeros(int size) {
        return Payload.newBuilder()
                .setType(PayloadType.COMPRESSABLE)
                .setBody(ByteString.copyFrom(new byte[Math.max(0, size)]))
                .build();
    }

    /** The error the request asks for, or null when its response_status is absent or OK. */
    private static Status requestedStatus(boolean has, EchoStatus status) {
        if (!has || status.getCode() == 0) {
            return null;
        }
        return Status.fromCodeValue(status.getCode()).withDescription(status.getMessage());
    }

    /**
     * The response steps of one call, run one after the other; a step with a delay runs that
     * long after the previous one finished. Steps without a delay whose predecessors are done
     * run at once on the caller's thread. Once the call is finished or cancelled, the remaining
     * steps are skipped.
     */
    static final class Sequencer<T> {
        private final ServerCallStreamObserver<T> call;
        private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
        private volatile boolean finished;

        Sequencer(StreamObserver<T> observer) {
            call = (ServerCallStreamObserver<T>) observer;
            // With a cancel handler set, grpc-java does not throw from onNext after a cancel.
            call.setOnCancelHandler(() -> finished = true);
        }

        private synchronized void then(int delayMicros, Runnable step) {
            Executor executor = delayMicros > 0
                    ? CompletableFuture.delayedExecutor(delayMicros, TimeUnit.MICROSECONDS, DELAYED_STEPS)
                    : Runnable::run;
            tail = tail.thenRunAsync(() -> {
                if (finished || call.isCancelled()) {
                    return;
                }
                try {
                    step.run();
                } catch (RuntimeException e) {
                    // The call went away under us (e.g. cancelled between the check and the send).
                    finished = true;
                }
            }, executor);
        }

        void send(int delayMicros, T response) {
            then(delayMicros, () -> call.onNext(response));
        }

        /** Sends the responses that the parameters ask for. */
        void respond(List<ResponseParameters> params, java.util.function.IntFunction<T> make) {
            for (ResponseParameters p : params) {
                send(p.getIntervalUs(), make.apply(p.getSize()));
            }
        }

        void fail(Status status) {
            then(0, () -> {
                finished = true;
                call.onError(status.asRuntimeException());
            });
        }

        void complete() {
            then(0, () -> {
                finished = true;
                call.onCompleted();
            });
        }
    }

    private static StreamingOutputCallResponse streamingResponse(int size) {
        return StreamingOutputCallResponse.newBuilder().setPayload(zeros(size)).build();
    }

    @Override
    public void emptyCall(Empty request, StreamObserver<Empty> responseObserver) {
        responseObserver.onNext(Empty.getDefaultInstance());
        responseObserver.onCompleted();
    }

    @Override
    public void unaryCall(SimpleRequest request, StreamObserver<SimpleResponse> responseObserver) {
        Status status = requestedStatus(request.hasResponseStatus(), request.getResponseStatus());
        if (status != null) {
            responseObserver.onError(status.asRuntimeException());
            return;
        }
        SimpleResponse.Builder response = SimpleResponse.newBuilder();
        if (request.getResponseSize() > 0) {
            response.setPayload(zeros(request.getResponseSize()));
        }
        responseObserver.onNext(response.build());
        responseObserver.onCompleted();
    }

    @Override
    public void streamingOutputCall(StreamingOutputCallRequest request,
                                    StreamObserver<StreamingOutputCallResponse> responseObserver) {
        Sequencer<StreamingOutputCallResponse> seq = new Sequencer<>(responseObserver);
        seq.respond(request.getResponseParametersList(), TestServiceImpl::streamingResponse);
        Status status = requestedStatus(request.hasResponseStatus(), request.getResponseStatus());
        if (status != null) {
            seq.fail(status);
        } else {
            seq.complete();
        }
    }

    @Override
    public StreamObserver<StreamingInputCallRequest> streamingInputCall(
            StreamObserver<StreamingInputCallResponse> responseObserver) {
        return new StreamObserver<>() {
            private long total;

            @Override
            public void onNext(StreamingInputCallRequest request) {
                total += request.getPayload().getBody().size();
            }

            @Override
            public void onError(Throwable t) {
                // Cancelled by the client: nothing to answer.
            }

            @Override
            public void onCompleted() {
                responseObserver.onNext(StreamingInputCallResponse.newBuilder()
                        .setAggregatedPayloadSize((int) total)
                        .build());
                responseObserver.onCompleted();
            }
        };
    }

    @Override
    public StreamObserver<StreamingOutputCallRequest> fullDuplexCall(
            StreamObserver<StreamingOutputCallResponse> responseObserver) {
        Sequencer<StreamingOutputCallResponse> seq = new Sequencer<>(responseObserver);
        return new StreamObserver<>() {
            private boolean closed;

            @Override
            public void onNext(StreamingOutputCallRequest request) {
                if (closed) {
                    return;
                }
                Status status = requestedStatus(request.hasResponseStatus(), request.getResponseStatus());
                if (status != null) {
                    closed = true;
                    seq.fail(status);
                    return;
                }
                seq.respond(request.getResponseParametersList(), TestServiceImpl::streamingResponse);
            }

            @Override
            public void onError(Throwable t) {
                closed = true;
            }

            @Override
            public void onCompleted() {
                if (!closed) {
                    closed = true;
                    seq.complete();
                }
            }
        };
    }

    @Override
    public StreamObserver<StreamingOutputCallRequest> halfDuplexCall(
            StreamObserver<StreamingOutputCallResponse> responseObserver) {
        Sequencer<StreamingOutputCallResponse> seq = new Sequencer<>(responseObserver);
        return new StreamObserver<>() {
            private final List<StreamingOutputCallRequest> requests = new ArrayList<>();

            @Override
            public void onNext(StreamingOutputCallRequest request) {
                requests.add(request);
            }

            @Override
            public void onError(Throwable t) {
                requests.clear();
            }

            @Override
            public void onCompleted() {
                for (StreamingOutputCallRequest request : requests) {
                    Status status = requestedStatus(request.hasResponseStatus(),
                                                    request.getResponseStatus());
                    if (status != null) {
                        seq.fail(status);
                        return;
                    }
                    seq.respond(request.getResponseParametersList(), TestServiceImpl::streamingResponse);
                }
                seq.complete();
            }
        };
    }
}

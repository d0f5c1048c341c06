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
import java.util.concurrent.TimeUnit;

/**
 * grpc.testing.TestService as described by grpc/grpc's doc/interop-test-descriptions.md
 * ("Server" section). UnimplementedCall is deliberately not overridden, so the generated base
 * class answers UNIMPLEMENTED.
 *
 * <p>The service runs on Armeria's blocking task executor (see InteropServer), so the
 * {@code interval_us} pauses are plain sleeps; Armeria runs one call's callbacks in order.
 */
final class TestServiceImpl extends TestServiceGrpc.TestServiceImplBase {

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

    private static void sleepMicros(int micros) {
        if (micros <= 0) {
            return;
        }
        try {
            TimeUnit.MICROSECONDS.sleep(micros);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
        ServerCallStreamObserver<StreamingOutputCallResponse> call =
                (ServerCallStreamObserver<StreamingOutputCallResponse>) responseObserver;
        for (ResponseParameters params : request.getResponseParametersList()) {
            sleepMicros(params.getIntervalUs());
            if (call.isCancelled()) {
                return;
            }
            call.onNext(StreamingOutputCallResponse.newBuilder()
                    .setPayload(zeros(params.getSize()))
                    .build());
        }
        Status status = requestedStatus(request.hasResponseStatus(), request.getResponseStatus());
        if (status != null) {
            call.onError(status.asRuntimeException());
            return;
        }
        call.onCompleted();
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
        ServerCallStreamObserver<StreamingOutputCallResponse> call =
                (ServerCallStreamObserver<StreamingOutputCallResponse>) responseObserver;
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
                    call.onError(status.asRuntimeException());
                    return;
                }
                for (ResponseParameters params : request.getResponseParametersList()) {
                    sleepMicros(params.getIntervalUs());
                    if (call.isCancelled()) {
                        closed = true;
                        return;
                    }
                    call.onNext(StreamingOutputCallResponse.newBuilder()
                            .setPayload(zeros(params.getSize()))
                            .build());
                }
            }

            @Override
            public void onError(Throwable t) {
                closed = true;
            }

            @Override
            public void onCompleted() {
                if (!closed) {
                    closed = true;
                    call.onCompleted();
                }
            }
        };
    }

    @Override
    public StreamObserver<StreamingOutputCallRequest> halfDuplexCall(
            StreamObserver<StreamingOutputCallResponse> responseObserver) {
        ServerCallStreamObserver<StreamingOutputCallResponse> call =
                (ServerCallStreamObserver<StreamingOutputCallResponse>) responseObserver;
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
                        call.onError(status.asRuntimeException());
                        return;
                    }
                    for (ResponseParameters params : request.getResponseParametersList()) {
                        sleepMicros(params.getIntervalUs());
                        if (call.isCancelled()) {
                            return;
                        }
                        call.onNext(StreamingOutputCallResponse.newBuilder()
                                .setPayload(zeros(params.getSize()))
                                .build());
                    }
                }
                call.onCompleted();
            }
        };
    }
}

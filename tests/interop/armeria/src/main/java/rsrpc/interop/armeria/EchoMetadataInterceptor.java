package rsrpc.interop.armeria;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Echoes {@code x-grpc-test-echo-initial} back in the response headers and
 * {@code x-grpc-test-echo-trailing-bin} back in the trailers, as the custom_metadata interop case
 * requires.
 */
final class EchoMetadataInterceptor implements ServerInterceptor {
    static final Metadata.Key<String> ECHO_INITIAL =
            Metadata.Key.of("x-grpc-test-echo-initial", Metadata.ASCII_STRING_MARSHALLER);
    static final Metadata.Key<byte[]> ECHO_TRAILING =
            Metadata.Key.of("x-grpc-test-echo-trailing-bin", Metadata.BINARY_BYTE_MARSHALLER);

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
            ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
        String initial = headers.get(ECHO_INITIAL);
        byte[] trailing = headers.get(ECHO_TRAILING);
        if (initial == null && trailing == null) {
            return next.startCall(call, headers);
        }
        return next.startCall(new SimpleForwardingServerCall<ReqT, RespT>(call) {
            @Override
            public void sendHeaders(Metadata responseHeaders) {
                if (initial != null) {
                    responseHeaders.put(ECHO_INITIAL, initial);
                }
                super.sendHeaders(responseHeaders);
            }

            @Override
            public void close(Status status, Metadata trailers) {
                if (trailing != null) {
                    trailers.put(ECHO_TRAILING, trailing);
                }
                super.close(status, trailers);
            }
        }, headers);
    }
}

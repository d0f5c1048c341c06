#!/usr/bin/env python3
"""grpcio implementation of the gRPC interop test server (grpc.testing.TestService).

Implements the "Server" section of grpc/grpc's
doc/interop-test-descriptions.md: EmptyCall, UnaryCall, StreamingOutputCall,
StreamingInputCall, FullDuplexCall and HalfDuplexCall, with Echo Status, Echo
Metadata, CompressedRequest (expect_compressed), CompressedResponse
(response_compressed / ResponseParameters.compressed) and interval_us.

TestService.UnimplementedCall and the whole grpc.testing.UnimplementedService
are deliberately not registered, so calls to them get UNIMPLEMENTED from
grpcio itself.  CacheableUnaryCall is not implemented either (it needs a
caching proxy and is not part of the interop matrix).

Flags follow grpc-go's interop server: --port, --use_tls, --tls_cert_file,
--tls_key_file.  Stubs are generated at test time into $INTEROP_PYTHON_GEN
(see interop_common.py).  Prints one "listening" line to stderr and stops
cleanly on SIGTERM/SIGINT.
"""

import argparse
import os
import signal
import sys
import threading
import time
from concurrent import futures

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import interop_common as common  # noqa: E402

empty_pb2, messages_pb2, test_pb2_grpc = common.load_stubs()

import grpc  # noqa: E402

SERVICE = "grpc.testing.TestService"
# Unique per server instance, the same for all its RPCs (fill_server_id).
SERVER_ID = f"rsrpc-interop-python-{os.getpid()}-{time.time_ns()}"


def _zeros(size):
    return b"\x00" * size


def _make_payload(context, payload_type, size):
    """A zero-filled payload, or abort the RPC with INVALID_ARGUMENT."""
    if payload_type != messages_pb2.COMPRESSABLE:
        context.abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"unsupported response_type {payload_type}",
        )
    if size < 0:
        context.abort(
            grpc.StatusCode.INVALID_ARGUMENT, f"invalid response size {size}"
        )
    return messages_pb2.Payload(type=payload_type, body=_zeros(size))


def _abort_with_echo_status(context, echo_status):
    code = common.status_code_from_int(grpc, echo_status.code)
    if code is None or code is grpc.StatusCode.OK:
        # Unknown numeric codes cannot be expressed through grpcio's API.
        code = grpc.StatusCode.UNKNOWN
    context.abort(code, echo_status.message)


def _check_expect_compressed(context, expect_compressed, received):
    """CompressedRequest: expect_compressed=true on an uncompressed message fails.

    grpcio does not expose the per-message compressed flag to handlers.  This
    server gets it anyway by turning off the core's own decompression
    (grpc.per_message_decompression=0) and decompressing in the request
    deserializer, which therefore knows for each message whether it arrived
    compressed (see interop_common.py).  As the spec only defines the "true"
    case, a compressed message with expect_compressed=false is accepted (the
    grpcio client cannot turn compression off per message, so being strict
    there would fail its own client_compressed_streaming case).
    """
    if expect_compressed.value and not received.compressed:
        context.abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            "expected compressed request but received an uncompressed message",
        )


class _Headers:
    """Echo Metadata plus the per-call compression decision.

    grpcio can only switch compression on for a whole call
    (context.set_compression) and only before the initial metadata goes out;
    it can then turn it off again for single messages
    (context.disable_next_message_compression).  So a call whose responses
    include any compressed one is sent with grpc-encoding gzip, and each
    response that must not be compressed is sent with the no-compress flag.
    """

    def __init__(self, context):
        self._context = context
        self._echo_initial = None
        self._sent = False
        self.call_compressed = False
        echo_trailing = None
        for key, value in context.invocation_metadata():
            if key == common.ECHO_INITIAL_KEY and self._echo_initial is None:
                self._echo_initial = ((key, value),)
            elif key == common.ECHO_TRAILING_KEY and echo_trailing is None:
                echo_trailing = ((key, value),)
        if echo_trailing is not None:
            context.set_trailing_metadata(echo_trailing)

    @property
    def has_echo_initial(self):
        return self._echo_initial is not None

    def send(self, compress=False):
        """Send the initial metadata now (once); `compress` picks gzip for the call."""
        if self._sent:
            return
        self._sent = True
        if compress:
            self._context.set_compression(grpc.Compression.Gzip)
            self.call_compressed = True
        if self._echo_initial is not None:
            self._context.send_initial_metadata(self._echo_initial)
        # Without echo metadata, grpcio sends the initial metadata (carrying
        # the chosen grpc-encoding) together with the first message or the
        # status.

    def before_message(self, want_compressed):
        """Call right before yielding/returning one response message."""
        if self.call_compressed and not want_compressed:
            self._context.disable_next_message_compression()


def _stream_responses(context, headers, request):
    """Responses for one StreamingOutputCallRequest (also used by the duplex calls)."""
    params = list(request.response_parameters)
    if not params:
        return
    headers.send(compress=any(p.compressed.value for p in params))
    for param in params:
        if param.interval_us > 0:
            time.sleep(param.interval_us / 1e6)
        payload = _make_payload(context, request.response_type, param.size)
        headers.before_message(param.compressed.value)
        yield messages_pb2.StreamingOutputCallResponse(payload=payload)


class TestService:
    """Handlers; each request arrives as common.Received (msg + compressed flag)."""

    def EmptyCall(self, received, context):
        _Headers(context).send()
        return empty_pb2.Empty()

    def UnaryCall(self, received, context):
        request = received.msg
        headers = _Headers(context)
        headers.send(compress=request.response_compressed.value)
        if request.response_status.code != 0:
            _abort_with_echo_status(context, request.response_status)
        _check_expect_compressed(context, request.expect_compressed, received)
        payload = _make_payload(context, request.response_type, request.response_size)
        headers.before_message(request.response_compressed.value)
        response = messages_pb2.SimpleResponse(payload=payload)
        if request.fill_server_id:
            response.server_id = SERVER_ID
        return response

    def StreamingOutputCall(self, received, context):
        headers = _Headers(context)
        request = received.msg
        if request.response_status.code != 0:
            headers.send()
            _abort_with_echo_status(context, request.response_status)
        yield from _stream_responses(context, headers, request)

    def StreamingInputCall(self, request_iterator, context):
        _Headers(context).send()
        total = 0
        for received in request_iterator:
            _check_expect_compressed(context, received.msg.expect_compressed, received)
            total += len(received.msg.payload.body)
        return messages_pb2.StreamingInputCallResponse(aggregated_payload_size=total)

    def FullDuplexCall(self, request_iterator, context):
        headers = _Headers(context)
        if headers.has_echo_initial:
            # Like grpc-go, send echoed initial metadata at once, so a client
            # may wait for the response headers before sending anything.
            headers.send()
        # Otherwise the headers wait for the first response, whose request
        # then decides whether the call is gzip-compressed.
        for received in request_iterator:
            request = received.msg
            if request.response_status.code != 0:
                headers.send()
                _abort_with_echo_status(context, request.response_status)
            yield from _stream_responses(context, headers, request)
        headers.send()

    def HalfDuplexCall(self, request_iterator, context):
        headers = _Headers(context)
        requests = [received.msg for received in request_iterator]
        for request in requests:
            if request.response_status.code != 0:
                headers.send()
                _abort_with_echo_status(context, request.response_status)
        for request in requests:
            yield from _stream_responses(context, headers, request)
        headers.send()


def _handler(service):
    def deser(message_class):
        return common.detecting_deserializer(message_class)

    def ser(message_class):
        return message_class.SerializeToString

    methods = {
        "EmptyCall": grpc.unary_unary_rpc_method_handler(
            service.EmptyCall,
            request_deserializer=deser(empty_pb2.Empty),
            response_serializer=ser(empty_pb2.Empty),
        ),
        "UnaryCall": grpc.unary_unary_rpc_method_handler(
            service.UnaryCall,
            request_deserializer=deser(messages_pb2.SimpleRequest),
            response_serializer=ser(messages_pb2.SimpleResponse),
        ),
        "StreamingOutputCall": grpc.unary_stream_rpc_method_handler(
            service.StreamingOutputCall,
            request_deserializer=deser(messages_pb2.StreamingOutputCallRequest),
            response_serializer=ser(messages_pb2.StreamingOutputCallResponse),
        ),
        "StreamingInputCall": grpc.stream_unary_rpc_method_handler(
            service.StreamingInputCall,
            request_deserializer=deser(messages_pb2.StreamingInputCallRequest),
            response_serializer=ser(messages_pb2.StreamingInputCallResponse),
        ),
        "FullDuplexCall": grpc.stream_stream_rpc_method_handler(
            service.FullDuplexCall,
            request_deserializer=deser(messages_pb2.StreamingOutputCallRequest),
            response_serializer=ser(messages_pb2.StreamingOutputCallResponse),
        ),
        "HalfDuplexCall": grpc.stream_stream_rpc_method_handler(
            service.HalfDuplexCall,
            request_deserializer=deser(messages_pb2.StreamingOutputCallRequest),
            response_serializer=ser(messages_pb2.StreamingOutputCallResponse),
        ),
        # UnimplementedCall intentionally absent -> UNIMPLEMENTED.
    }
    return grpc.method_handlers_generic_handler(SERVICE, methods)


def _parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=10000, help="port to listen on (0 picks one)")
    common.add_bool_flag(parser, "--use_tls", "serve TLS instead of plaintext")
    parser.add_argument("--tls_cert_file", default="", help="PEM server certificate (with --use_tls)")
    parser.add_argument("--tls_key_file", default="", help="PEM server private key (with --use_tls)")
    args = parser.parse_args(common.normalize_go_flags(argv))
    if args.use_tls and not (args.tls_cert_file and args.tls_key_file):
        parser.error("--use_tls needs --tls_cert_file and --tls_key_file")
    return args


def main(argv):
    args = _parse_args(argv)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="interop"),
        options=[common.NO_CORE_DECOMPRESSION],
    )
    server.add_generic_rpc_handlers((_handler(TestService()),))
    address = f"[::]:{args.port}"
    try:
        if args.use_tls:
            with open(args.tls_key_file, "rb") as f:
                key = f.read()
            with open(args.tls_cert_file, "rb") as f:
                cert = f.read()
            port = server.add_secure_port(
                address, grpc.ssl_server_credentials(((key, cert),))
            )
        else:
            port = server.add_insecure_port(address)
    except (OSError, RuntimeError) as err:
        print(f"interop_server: cannot listen on {address}: {err}", file=sys.stderr)
        return 1
    if not port:
        print(f"interop_server: cannot listen on {address}", file=sys.stderr)
        return 1

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    server.start()
    tls = "tls" if args.use_tls else "plaintext"
    print(f"interop_server: listening on port {port} ({tls})", file=sys.stderr, flush=True)
    while not stop.wait(0.5):
        pass
    server.stop(grace=1.0).wait(5.0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

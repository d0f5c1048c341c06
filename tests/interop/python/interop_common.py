"""Helpers shared by interop_server.py and interop_client.py.

The protobuf/gRPC stubs are not committed.  They are generated at test time
with

    python -m grpc_tools.protoc -I/usr/share/grpc-proto \
        --python_out=GEN --grpc_python_out=GEN \
        grpc/testing/test.proto grpc/testing/messages.proto \
        grpc/testing/empty.proto

and the directory GEN is handed to the scripts in the environment variable
INTEROP_PYTHON_GEN.

Per-message compression
-----------------------
grpcio hands neither a server handler nor a client the "compressed" flag of a
received message, and it hides the ``grpc-encoding`` header from
``invocation_metadata()`` / ``initial_metadata()``.  The interop cases need
that flag (the server's ``expect_compressed`` check, the client's
``server_compressed_*`` asserts), so both scripts open their server/channel
with the C-core argument ``grpc.per_message_decompression = 0``: the core then
hands compressed messages over still compressed, and the (de)serializers here
decompress them themselves, which tells exactly which messages were
compressed.  A compressed message is recognised by its header: gzip data
starts with 1f 8b, zlib (grpc "deflate") data with a valid two-byte zlib
header.  Neither can start a serialized grpc.testing message: 0x1f would be
field 3 with the invalid wire type 7, and 0x78 is field 15, which none of the
messages has (and serialized fields come in field-number order).
"""

import gzip
import os
import sys
import zlib

GEN_ENV = "INTEROP_PYTHON_GEN"

ECHO_INITIAL_KEY = "x-grpc-test-echo-initial"
ECHO_TRAILING_KEY = "x-grpc-test-echo-trailing-bin"

# Channel/server arguments: see "Per-message compression" above.
NO_CORE_DECOMPRESSION = ("grpc.per_message_decompression", 0)


def load_stubs():
    """Make the generated stubs importable and return (empty, messages, test).

    The generated modules live in the package ``grpc.testing`` (that is the
    proto package), but ``grpc`` is grpcio's own regular package, which has no
    ``testing`` subpackage.  Putting GEN on sys.path alone is therefore not
    enough: a regular package always wins over a namespace-package portion
    found elsewhere on sys.path.  So GEN/grpc is also appended to
    ``grpc.__path__``, which lets ``import grpc.testing.test_pb2`` (used by the
    generated code itself) find GEN/grpc/testing.
    """
    gen = os.environ.get(GEN_ENV)
    if not gen:
        sys.exit(
            f"error: {GEN_ENV} is not set. Generate the stubs with "
            "`python -m grpc_tools.protoc -I/usr/share/grpc-proto "
            "--python_out=GEN --grpc_python_out=GEN grpc/testing/test.proto "
            "grpc/testing/messages.proto grpc/testing/empty.proto` and set "
            f"{GEN_ENV}=GEN"
        )
    gen = os.path.abspath(gen)
    stub = os.path.join(gen, "grpc", "testing", "test_pb2_grpc.py")
    if not os.path.isfile(stub):
        sys.exit(
            f"error: {GEN_ENV}={gen} does not contain "
            "grpc/testing/test_pb2_grpc.py (generate the stubs first)"
        )
    if gen not in sys.path:
        sys.path.insert(0, gen)

    import grpc

    gen_grpc = os.path.join(gen, "grpc")
    if gen_grpc not in grpc.__path__:
        grpc.__path__.append(gen_grpc)

    from grpc.testing import empty_pb2, messages_pb2, test_pb2_grpc

    return empty_pb2, messages_pb2, test_pb2_grpc


def _looks_like_zlib(data):
    return (
        len(data) >= 2
        and (data[0] & 0x0F) == 8
        and (data[0] >> 4) <= 7
        and ((data[0] << 8) | data[1]) % 31 == 0
    )


def decompress_if_compressed(data):
    """Return (plain_bytes, was_compressed) for one received message."""
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data), True
    if _looks_like_zlib(data):
        try:
            return zlib.decompress(data), True
        except zlib.error:
            pass
    return data, False


class Received:
    """A received message together with its compressed flag."""

    __slots__ = ("msg", "compressed")

    def __init__(self, msg, compressed):
        self.msg = msg
        self.compressed = compressed


def detecting_deserializer(message_class):
    def deserialize(data):
        plain, compressed = decompress_if_compressed(data)
        return Received(message_class.FromString(plain), compressed)

    return deserialize


def normalize_go_flags(argv):
    """Accept grpc-go style single-dash long flags (``-port=8080``).

    argparse only understands ``--port``; grpc-go's flag package accepts both.
    """
    out = []
    for arg in argv:
        if arg.startswith("-") and not arg.startswith("--") and len(arg) > 2:
            arg = "-" + arg
        out.append(arg)
    return out


def parse_bool(text):
    value = str(text).strip().lower()
    if value in ("1", "t", "true", "y", "yes", "on"):
        return True
    if value in ("0", "f", "false", "n", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def add_bool_flag(parser, name, help_text):
    """A flag usable as ``--name``, ``--name=true`` or ``--name=false``."""
    parser.add_argument(
        name,
        nargs="?",
        const=True,
        default=False,
        type=parse_bool,
        metavar="BOOL",
        help=help_text,
    )


def status_code_from_int(grpc_module, code):
    """Map a numeric status code to grpc.StatusCode (None if unknown)."""
    for status in grpc_module.StatusCode:
        if status.value[0] == code:
            return status
    return None

"""Messages between the server and a sandbox worker: a 4-byte length, then UTF-8 JSON.

JSON, not pickle: the server decodes what a worker sends, and a worker runs untrusted code.
"""

from __future__ import annotations

import json
import struct
from typing import Any

HEADER = struct.Struct(">I")
# Task data of the largest forms is far below this; a worker that claims more is refused.
MAX_MESSAGE_BYTES = 32 * 1024 * 1024


class ProtocolError(Exception):
    """A message could not be encoded or decoded, or broke the framing."""


def encode(message: Any) -> bytes:
    """One framed message. NaN and infinities are refused: no database column stores them."""
    body = json.dumps(message, allow_nan=False, separators=(",", ":"), default=_plain).encode()
    if len(body) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"a message of {len(body)} bytes is over the limit of {MAX_MESSAGE_BYTES}")
    return HEADER.pack(len(body)) + body


def decode(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:  # includes integers of more digits than Python converts
        raise ProtocolError(f"undecodable message: {exc}") from None


def body_length(header: bytes) -> int:
    (length,) = HEADER.unpack(header)
    if length > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"a message of {length} bytes is over the limit of {MAX_MESSAGE_BYTES}")
    return length


def _plain(value: Any) -> Any:
    # Sets become lists, as SpiffWorkflow's serializer stores them anyway.
    if isinstance(value, (set, frozenset)):
        try:
            return sorted(value)
        except TypeError:
            return list(value)
    raise TypeError(f"a {type(value).__name__} value cannot be stored in task data")

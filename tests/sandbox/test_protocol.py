"""The messages between the server and a worker: framing, and what JSON cannot carry."""

from __future__ import annotations

import json

import pytest

from app.sandbox import protocol

LIMIT = 32 * 1024 * 1024


def test_a_message_is_a_length_then_json() -> None:
    frame = protocol.encode({"a": [1, 2.5, "é", None, True]})
    length = protocol.body_length(frame[:4])
    assert length == len(frame) - 4 == len('{"a":[1,2.5,"\\u00e9",null,true]}')
    assert protocol.decode(frame[4:]) == {"a": [1, 2.5, "é", None, True]}


def test_messages_up_to_32_mib_and_no_larger() -> None:
    at_limit = protocol.encode("a" * (LIMIT - 2))  # the two quotes make it LIMIT bytes
    assert protocol.body_length(at_limit[:4]) == LIMIT
    with pytest.raises(protocol.ProtocolError) as too_large:
        protocol.encode("a" * (LIMIT - 1))
    assert str(too_large.value) == f"a message of {LIMIT + 1} bytes is over the limit of {LIMIT}"
    with pytest.raises(protocol.ProtocolError) as claimed:
        protocol.body_length(protocol.HEADER.pack(LIMIT + 1))
    assert str(claimed.value) == f"a message of {LIMIT + 1} bytes is over the limit of {LIMIT}"


def test_what_json_cannot_carry_is_refused() -> None:
    with pytest.raises(ValueError, match="Out of range float"):
        protocol.encode(float("nan"))
    with pytest.raises(TypeError) as not_json:
        protocol.encode(object())
    assert str(not_json.value) == "a object value cannot be stored in task data"
    assert json.loads(protocol.encode({1, 3, 2})[4:]) == [1, 2, 3]
    with pytest.raises(protocol.ProtocolError) as undecodable:
        protocol.decode(b"{")
    assert str(undecodable.value).startswith("undecodable message: Expecting property name")

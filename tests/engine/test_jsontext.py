"""JSON from outside with a bound on nesting."""

from __future__ import annotations

import json

import pytest

from app.engine import jsontext


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_the_bound_is_exact() -> None:
    assert jsontext.loads(_nested(jsontext.MAX_DEPTH)) is not None
    assert jsontext.loads(json.dumps({"a": [{"b": 1}]})) == {"a": [{"b": 1}]}
    with pytest.raises(jsontext.TooDeep):
        jsontext.loads(_nested(jsontext.MAX_DEPTH + 1))
    with pytest.raises(jsontext.TooDeep):
        jsontext.loads(json.dumps({"a": json.loads(_nested(jsontext.MAX_DEPTH))}))


def test_a_document_deeper_than_the_parser_recurses_is_refused_as_malformed() -> None:
    for text in (_nested(100_000), "[" * 100_000, b'{"a":' * 50_000):
        with pytest.raises(ValueError, match="nested more than 100 levels"):
            jsontext.loads(text)

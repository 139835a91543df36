"""JSON from outside (request bodies, deployed form files, what an administrator types): parsed
with a bound on nesting. Python's parser, and everything that walks a value after it (schema
checks, the form builder, the serializer), recurse once per level; a document nested a few
thousand levels deep would end in a RecursionError, a server error, instead of a refusal."""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 100  # far beyond any form, task data or catalogue; far below the interpreter's limit


class TooDeep(ValueError):
    """The document is nested more than MAX_DEPTH levels (a ValueError, as malformed JSON is)."""

    def __init__(self) -> None:
        super().__init__(f"JSON nested more than {MAX_DEPTH} levels deep")


def loads(text: str | bytes) -> Any:
    """json.loads, refusing with TooDeep what is nested more than MAX_DEPTH levels."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise TooDeep() from None
    if depth_exceeds(value, MAX_DEPTH):
        raise TooDeep()
    return value


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether lists and objects nest more than `limit` levels (walked without recursion)."""
    pending = [(value, 1)]
    while pending:
        current, level = pending.pop()
        children = (
            current.values() if isinstance(current, dict) else current if isinstance(current, list) else ()
        )
        for child in children:
            if isinstance(child, (dict, list)):
                if level + 1 > limit:
                    return True
                pending.append((child, level + 1))
    return False

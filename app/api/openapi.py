"""GET /api/v1/openapi.json: the hand-written OpenAPI 3.1 document of this API (no sign-in needed)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from flask import Response

from . import bp

DOCUMENT_PATH = Path(__file__).with_name("openapi.json")


@cache
def document_bytes() -> bytes:
    """The document, read once; parsed first so a broken file fails loudly, not as bad JSON to clients."""
    content = DOCUMENT_PATH.read_bytes()
    json.loads(content)
    return content


@bp.get("/openapi.json")
def openapi_document() -> Response:
    return Response(document_bytes(), mimetype="application/json")

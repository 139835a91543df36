"""The editor's labels (frontend/texts.json has the same keys in English), marked for translation."""

from __future__ import annotations

EDITOR_TEXTS: dict[str, object] = {}

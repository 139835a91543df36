"""The editor's labels: the same keys and English texts in frontend/texts.json (what the bundle
uses when the page gives none) and in app/web/editor_texts.py (what the server translates), and a
Kazakh and a Russian text for each."""

from __future__ import annotations

import json
from pathlib import Path

from flask_babel import force_locale

from app.web.editor_texts import EDITOR_TEXTS

TEXTS = Path(__file__).resolve().parents[2] / "frontend" / "texts.json"
SAME_IN_EVERY_LANGUAGE = {"problems.lint"}  # the tool's name


def test_the_server_knows_every_label_of_the_bundle() -> None:
    english = json.loads(TEXTS.read_text(encoding="utf-8"))
    assert {key: text._args[0] for key, text in EDITOR_TEXTS.items()} == english


def test_every_label_is_translated(app) -> None:
    with app.test_request_context():
        for language in ("kk", "ru"):
            with force_locale(language):
                untranslated = [
                    key
                    for key, text in EDITOR_TEXTS.items()
                    if str(text) == text._args[0] and key not in SAME_IN_EVERY_LANGUAGE
                ]
            assert untranslated == [], language

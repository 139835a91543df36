"""Validation messages of the services (jsonschema's English) in the user's language."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _


def field_error_text(error: dict[str, Any], language: str) -> str:
    """A field's error in a language: a form rule gives its own texts, a schema error is
    translated from jsonschema's English (in the current locale)."""
    return (error.get("messages") or {}).get(language) or localize_error(error.get("message", ""))


def localize_error(message: str) -> str:
    found = re.search(r"less than the minimum of (\S+)", message)
    if found:
        return _("The value must be at least %(limit)s.", limit=found.group(1))
    found = re.search(r"at most (\d+) characters", message)
    if found:
        return _("At most %(limit)s characters.", limit=found.group(1))
    found = re.search(r"greater than the maximum of (\S+)", message)
    if found:
        return _("The value must be at most %(limit)s.", limit=found.group(1))
    patterns = [
        ("is a required property", _("This field is required.")),
        ("is required", _("This field is required.")),
        ("is not of type 'integer'", _("Enter a whole number.")),
        ("is not of type 'number'", _("Enter a number.")),
        ("is not of type", _("The value has the wrong type.")),
        ("is not one of", _("Choose one of the options.")),
        ("is too long", _("The value is too long.")),
        ("should be non-empty", _("This field is required.")),
        ("is too short", _("The value is too short.")),
        ("does not match", _("The value has the wrong format.")),
        ("is not a 'date-time'", _("Enter a valid date and time.")),
        ("is not a 'date'", _("Enter a valid date.")),
        ("is not a 'email'", _("Enter a valid e-mail address.")),
        ("the file is empty", _("The file is empty.")),
        ("the file is too large", _("The file is too large.")),
    ]
    for fragment, text in patterns:
        if fragment in message:
            return text
    return message

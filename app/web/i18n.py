"""Languages (Kazakh by default, Russian, English), message catalogues and local dates."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, session
from flask_babel import Babel, format_date, format_time, get_locale, gettext

from ..settings import Settings

LANGUAGES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
DEFAULT_LANGUAGE = "kk"
TRANSLATIONS = Path(__file__).parent / "translations"


def compile_catalogues(folder: Path = TRANSLATIONS) -> None:
    """Compile each .po into its .mo when the .mo is missing or older (also done by `make install`)."""
    for po in folder.glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        try:
            with mo.open("wb") as target:
                write_mo(target, catalog)
        except OSError:  # a read-only installation: `make install` compiled them already
            continue


def select_locale() -> str:
    actor = g.get("actor")
    if actor is not None and actor.language in LANGUAGES:
        return str(actor.language)
    language = session.get("language")
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def localized(texts: Any, fallback: str = "") -> str:
    """Pick the user's language from {"kk", "ru", "en"}, then Kazakh (the state language), then
    English, then any."""
    if isinstance(texts, str):
        return texts
    if not isinstance(texts, dict) or not texts:
        return fallback
    language = str(get_locale() or DEFAULT_LANGUAGE)
    chosen = texts.get(language) or texts.get(DEFAULT_LANGUAGE) or texts.get("en")
    return str(chosen or next(iter(texts.values())) or fallback)


def _formatted(value: datetime | str | None, format_value: Callable[[datetime], str]) -> str:
    """Format a datetime or an ISO string; anything else is shown as it is."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return format_value(value)


def datetime_filter(value: datetime | str | None, form: str = "short") -> str:
    """A date and time in the user's language, always with a four-digit year (CLDR's short
    Kazakh and English dates have two: a deadline in 2099 would read "29.12.99")."""

    def formatted(moment: datetime) -> str:
        # Both parts are read in the user's time zone (Flask-Babel rebases aware datetimes).
        time_form = "medium" if form == "medium" else "short"
        return f"{format_date(moment, 'medium')}, {format_time(moment, time_form)}"

    return _formatted(value, formatted)


def date_filter(value: datetime | str | None) -> str:
    return _formatted(value, lambda moment: format_date(moment, "medium"))


def init_babel(app: Flask, settings: Settings) -> None:
    compile_catalogues()
    app.config.update(
        BABEL_DEFAULT_LOCALE=DEFAULT_LANGUAGE,
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
    )
    Babel(app, locale_selector=select_locale)
    app.jinja_env.filters.update(
        dt=datetime_filter, d=date_filter, localized=localized, group_title=group_title
    )
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, get_locale=get_locale)


def group_title(group: str | None, titles: dict[str, dict[str, str]]) -> str:
    """A group by its name in the reader's language (its id when no catalogue names it)."""
    return localized(titles.get(group or "") or {}, group or "")


ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def show_value(value: Any) -> str:
    """A data value for people: ISO dates and date-times in the user's format and time zone."""
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, str):
        if ISO_MOMENT.match(value):
            return datetime_filter(value.replace("Z", "+00:00"))
        if ISO_DAY.match(value):
            return format_date(date.fromisoformat(value), "medium")
    return str(value)

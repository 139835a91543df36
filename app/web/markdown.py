"""Task instructions: `{{ variable }}` placeholders and a small, safe subset of Markdown.

Everything is HTML-escaped first; only then are paragraphs, headings, lists, **bold**, *italic*,
`code` and http(s) links turned into tags, so no markup from a diagram or the data gets through.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from markupsafe import Markup, escape

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}")
INLINE = [
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"<em>\1</em>"),
    (
        re.compile(r"\[([^\]]+)\]\((https?://[^\s)\"'<>]+)\)"),
        r'<a href="\2" rel="noopener noreferrer">\1</a>',
    ),
]


def fill(text: str, data: dict[str, Any], show: Callable[[Any], str] = str) -> str:
    def value(match: re.Match[str]) -> str:
        found = data.get(match.group(1))
        return "" if found is None else show(found)

    return PLACEHOLDER.sub(value, text)


def _inline(text: str) -> str:
    html = str(escape(text))
    for pattern, replacement in INLINE:
        html = pattern.sub(replacement, html)
    return html


def render(text: str | None, data: dict[str, Any] | None = None, show: Callable[[Any], str] = str) -> Markup:
    if not text:
        return Markup("")
    blocks: list[str] = []
    list_tag: str | None = None
    paragraph: list[str] = []

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            blocks.append("<p>" + "<br>".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()
        if list_tag:
            blocks.append(f"</{list_tag}>")
            list_tag = None

    for line in fill(text, data or {}, show).splitlines():
        stripped = line.strip()
        heading = re.match(r"^(#{1,4})\s+(.*)$", stripped)
        item = re.match(r"^(?:([-*])|(\d+)[.)])\s+(.*)$", stripped)
        if not stripped:
            flush()
        elif heading:
            flush()
            level = len(heading.group(1)) + 2  # h3..h6 under the page's own headings
            blocks.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif item:
            tag = "ul" if item.group(1) else "ol"
            if paragraph or list_tag != tag:
                flush()
                blocks.append(f"<{tag}>")
                list_tag = tag
            blocks.append(f"<li>{_inline(item.group(3))}</li>")
        else:
            if list_tag:
                flush()
            paragraph.append(stripped)
    flush()
    return Markup("\n".join(blocks))

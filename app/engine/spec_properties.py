"""What the extension properties of a version's elements say: names and texts by language,
other groups, forms. Read-only, from the specs (no workflow needed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .serializer import LoadedSpecs

LANGUAGES = ("kk", "ru", "en")
OTHER_GROUPS = "other_groups"


def properties_of(spec: Any) -> dict[str, str]:
    """An element's `spiffworkflow:property` values (some specs, such as a multi-instance's
    wrapper, have no extensions at all)."""
    extensions = getattr(spec, "extensions", None)
    return dict(extensions.get("properties") or {}) if isinstance(extensions, dict) else {}


def _specs(specs: LoadedSpecs):
    for process in (specs.spec, *specs.subprocess_specs.values()):
        yield from process.task_specs.values()


def element_properties(specs: LoadedSpecs, element_id: str) -> dict[str, str]:
    """The extension properties of an element of a version, wherever it sits (sub-processes too)."""
    for spec in _specs(specs):
        if getattr(spec, "bpmn_id", None) == element_id:
            return properties_of(spec)
    return {}


def element_titles(specs: LoadedSpecs) -> dict[str, dict[str, str]]:
    """The name of every element of a version by language (English from the diagram, the others
    from its translation catalogue), wherever it sits."""
    titles: dict[str, dict[str, str]] = {}
    for spec in _specs(specs):
        element_id = getattr(spec, "bpmn_id", None)
        if not element_id or element_id in titles:
            continue
        properties = properties_of(spec)
        names = {"en": spec.bpmn_name} if getattr(spec, "bpmn_name", None) else {}
        names.update(
            {lang: properties[f"title_{lang}"] for lang in LANGUAGES if properties.get(f"title_{lang}")}
        )
        if names:
            titles[element_id] = names
    return titles


def other_groups(properties: Mapping[str, str]) -> tuple[str, ...]:
    """The groups a user task's `other_groups` property names (commas or spaces between)."""
    names = (properties.get(OTHER_GROUPS) or "").replace(",", " ").split()
    return tuple(sorted(set(names)))

"""Translations of a process model: a catalogue per process, deployed and versioned with it.

`<process id>.translations.json` sits beside the BPMN file. The diagram itself holds the English
(element names, instructions, the `legal_basis` property); the catalogue holds every other
language, keyed by element id, so an analyst (or the editor) can show the languages side by side:

    {
      "process": {"name": {"kk": "...", "ru": "..."}, "description": {...}, "legal_basis_document": {...}},
      "groups": {"secretariat": {"kk": "...", "ru": "...", "en": "Secretariat"}},
      "elements": {
        "Task_RegisterAppeal": {
          "name": {"kk": "...", "ru": "..."},
          "instructions": {"kk": "...", "ru": "..."},
          "legal_basis": {"kk": "...", "ru": "..."}
        }
      }
    }

At deploy the texts become properties of the elements (`title_kk`, `instructions_ru`,
`legal_basis_kk`...) and of the process (`title_kk`, `description_ru`...), which the engine's
views and the pages read; a missing text falls back to Kazakh, then English.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from lxml import etree

from . import jsontext
from .errors import Problem

NSMAP = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
# Elements with a name that no page shows (a data object is drawn by its references).
UNSHOWN = ("dataObject", "property", "inputDataItem")

SUFFIX = ".translations.json"
LANGUAGES = ("kk", "ru", "en")
OTHER_LANGUAGES = ("kk", "ru")
ELEMENT_TEXTS = ("name", "instructions", "legal_basis")
PROCESS_TEXTS = ("name", "description", "legal_basis_document")
# The property each text becomes, suffixed with the language.
PROPERTY_OF = {"name": "title", "instructions": "instructions", "legal_basis": "legal_basis",
               "description": "description", "legal_basis_document": "legal_basis_document"}  # fmt: skip


def catalogue_name(process_id: str) -> str:
    return process_id + SUFFIX


def _texts_problems(where: str, texts: Any) -> Iterator[str]:
    if not isinstance(texts, dict):
        yield f"{where}: must map languages to texts"
        return
    for language, text in texts.items():
        if language not in LANGUAGES:
            yield f"{where}: unknown language '{language}' (kk, ru, en)"
        elif not isinstance(text, str) or not text.strip():
            yield f"{where}.{language}: must be a text"


def catalogue_problems(document: Any, element_ids: set[str] | None = None) -> Iterator[str]:
    """Everything wrong with a catalogue; `element_ids`, when given, are the ids it may name."""
    if not isinstance(document, dict):
        yield "a translations file must hold a JSON object"
        return
    unknown = set(document) - {"process", "groups", "elements"}
    if unknown:
        yield f"unknown section(s) {', '.join(sorted(unknown))} (process, groups, elements)"
    process = document.get("process") or {}
    for key, texts in process.items() if isinstance(process, dict) else []:
        if key not in PROCESS_TEXTS:
            yield f"process.{key}: unknown text ({', '.join(PROCESS_TEXTS)})"
        yield from _texts_problems(f"process.{key}", texts)
    for group, texts in (document.get("groups") or {}).items():
        yield from _texts_problems(f"groups.{group}", texts)
    elements = document.get("elements") or {}
    if not isinstance(elements, dict):
        yield "elements: must map element ids to their texts"
        return
    for element_id, entry in elements.items():
        if element_ids is not None and element_id not in element_ids:
            yield f"elements.{element_id}: no element of the process has this id"
        if not isinstance(entry, dict):
            yield f"elements.{element_id}: must map texts (name, instructions, legal_basis) to languages"
            continue
        for key, texts in entry.items():
            if key not in ELEMENT_TEXTS:
                yield f"elements.{element_id}.{key}: unknown text ({', '.join(ELEMENT_TEXTS)})"
            yield from _texts_problems(f"elements.{element_id}.{key}", texts)


def element_properties(document: Mapping[str, Any], element_id: str) -> dict[str, str]:
    """The properties an element gets from a (valid) catalogue: `title_kk`, `instructions_ru`..."""
    entry = (document.get("elements") or {}).get(element_id) or {}
    return {
        f"{PROPERTY_OF[key]}_{language}": text
        for key, texts in entry.items()
        for language, text in texts.items()
        if language != "en" or key == "name"
    }


def process_properties(document: Mapping[str, Any]) -> dict[str, str]:
    """The process metadata a (valid) catalogue adds: `title_kk`, `description_ru`..."""
    return {
        f"{PROPERTY_OF[key]}_{language}": text
        for key, texts in (document.get("process") or {}).items()
        for language, text in texts.items()
    }


def group_titles(document: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    return {group: dict(texts) for group, texts in (document.get("groups") or {}).items()}


def missing(
    document: Mapping[str, Any],
    elements: Mapping[str, Mapping[str, bool]],
    languages: tuple[str, ...] = OTHER_LANGUAGES,
) -> list[str]:
    """What a catalogue lacks: for each element, each text it has in English (`elements` maps an
    id to {"name": has a name, "instructions": ..., "legal_basis": ...}), in each language."""
    gaps = []
    entries = document.get("elements") or {}
    for element_id, present in sorted(elements.items()):
        for key, has_text in present.items():
            if not has_text:
                continue
            texts = (entries.get(element_id) or {}).get(key) or {}
            gaps.extend(f"{element_id}.{key}.{lang}" for lang in languages if not texts.get(lang))
    process = document.get("process") or {}
    gaps.extend(f"process.name.{lang}" for lang in languages if not (process.get("name") or {}).get(lang))
    return gaps


def catalogues_of(
    files: Mapping[str, bytes], roots: Mapping[str, etree._Element], problems: list[Problem]
) -> dict[str, dict[str, Any]]:
    """The valid translation catalogues, by the BPMN file whose process they translate."""
    found: dict[str, dict[str, Any]] = {}
    for bpmn_file, root in roots.items():
        if not bpmn_file.endswith(".bpmn"):
            continue
        for process_id in root.xpath("//bpmn:process/@id", namespaces=NSMAP):
            name = catalogue_name(str(process_id))
            if name not in files:
                continue
            try:
                document = jsontext.loads(files[name])
            except (ValueError, UnicodeDecodeError) as exc:
                problems.append(Problem(name, getattr(exc, "lineno", None), None, f"invalid JSON: {exc}"))
                continue
            ids = {str(i) for i in root.xpath("//@id")}
            errors = list(catalogue_problems(document, ids))
            problems.extend(Problem(name, None, None, message) for message in errors)
            if not errors:
                found[bpmn_file] = document
    return found


def add_properties(task_spec: Any, properties: Mapping[str, str]) -> None:
    if not properties:
        return
    extensions = task_spec.extensions if isinstance(getattr(task_spec, "extensions", None), dict) else {}
    merged = dict(extensions.get("properties") or {})
    merged.update(properties)
    extensions["properties"] = merged
    task_spec.extensions = extensions


def diagram_texts(
    root: etree._Element, groups: Mapping[str, Any] | None = None
) -> dict[str, dict[str, bool]]:
    """For each shown element of a diagram, which texts it has in English (what its catalogue
    must give in the other languages): {id: {"name", "instructions", "legal_basis"}}. The labels
    of flows, lanes and data count: the diagram shows them. A lane named after a group of the
    catalogue's `groups` takes the group's names instead."""
    texts: dict[str, dict[str, bool]] = {}
    for element in root.xpath("//bpmn:process//*[@id][@name]", namespaces=NSMAP):
        kind = etree.QName(element).localname
        if kind in UNSHOWN or (kind == "lane" and element.get("name") in (groups or {})):
            continue
        properties = element.xpath(
            "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property[@name='legal_basis']",
            namespaces=NSMAP,
        )
        instructions = element.xpath(
            "./bpmn:extensionElements/spiffworkflow:instructionsForEndUser", namespaces=NSMAP
        )
        texts[element.get("id")] = {
            "name": True,
            "instructions": bool(instructions),
            "legal_basis": bool(properties),
        }
    return texts


def _parse(bpmn: bytes) -> etree._Element:
    return etree.fromstring(bpmn, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))


def diagram_gaps(bpmn: bytes, catalogue: Mapping[str, Any]) -> list[str]:
    """What a catalogue lacks for a BPMN file (see `missing`), the groups its lanes name included."""
    root = _parse(bpmn)
    groups = catalogue.get("groups") or {}
    gaps = missing(catalogue, diagram_texts(root, groups))
    lane_groups = {str(n) for n in root.xpath("//bpmn:lane/@name", namespaces=NSMAP)} & set(groups)
    gaps.extend(
        f"groups.{group}.{lang}"
        for group in sorted(lane_groups)
        for lang in OTHER_LANGUAGES
        if not (groups[group] or {}).get(lang)
    )
    return gaps


def diagram_names(bpmn: bytes, catalogue: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Every label of a diagram by language, {element id: {language: text}}: the diagram's own
    name as English, over it the catalogue's names; a lane named after a group is labelled with
    the group's names, a pool with its process's name."""
    root = _parse(bpmn)
    groups = catalogue.get("groups") or {}
    elements = catalogue.get("elements") or {}
    process_names = (catalogue.get("process") or {}).get("name") or {}
    names: dict[str, dict[str, str]] = {}
    for element in root.xpath("//*[@id][@name]"):
        element_id, name = element.get("id"), element.get("name")
        texts = {"en": name}
        kind = etree.QName(element).localname
        if kind == "lane" and name in groups:
            texts.update(groups[name])
        elif kind == "participant" and process_names:
            texts.update(process_names)
        texts.update((elements.get(element_id) or {}).get("name") or {})
        names[element_id] = texts
    return names

"""What changed between two versions of a model's files: files added, removed and changed, and in
the BPMN files, elements added, removed, changed (which property, old and new value, and a line
diff for code and long texts) and moved on the drawing."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .parser import safe_xml_parser
from .process_choice import BPMN_NS, NSMAP, SPIFF_NS

DI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
# Extension elements whose text is a property of the element that holds them.
SPIFF_TEXTS = (
    "preScript",
    "postScript",
    "instructionsForEndUser",
    "messagePayload",
    "messageVariable",
    "calledDecisionId",
)
# Children whose text is the element's own value, under one name.
BPMN_TEXTS = {
    "documentation": "documentation",
    "script": "script",
    "conditionExpression": "condition",
    "timeDuration": "timer (duration)",
    "timeDate": "timer (date)",
    "timeCycle": "timer (cycle)",
    "loopCardinality": "loop cardinality",
    "completionCondition": "completion condition",
}
IGNORED_ATTRIBUTES = {"id"}
TIMER_TAGS = tuple(f"{{{BPMN_NS}}}{kind}" for kind in ("timeDuration", "timeDate", "timeCycle"))
PROPERTY_XPATH = "self::spiffworkflow:properties/spiffworkflow:property"


@dataclass
class _Element:
    kind: str
    name: str
    properties: dict[str, str] = field(default_factory=dict)


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _text(element: etree._Element) -> str:
    return "".join(element.itertext()).strip()


def _elements(root: etree._Element) -> dict[str, _Element]:
    found: dict[str, _Element] = {}
    lanes = {
        str(ref).strip(): lane.get("name") or lane.get("id")
        for lane in root.iter(f"{{{BPMN_NS}}}lane")
        for ref in lane.xpath("bpmn:flowNodeRef/text()", namespaces=NSMAP)
    }
    for element in root.iter():
        element_id = element.get("id")
        if not element_id or not isinstance(element.tag, str) or etree.QName(element).namespace != BPMN_NS:
            continue
        kind = _local(element.tag)
        if kind in BPMN_TEXTS or kind in ("definitions", "extensionElements"):
            continue
        properties = {
            _local(name) or str(name): str(value)
            for name, value in element.attrib.items()
            if _local(name) not in IGNORED_ATTRIBUTES
        }
        for child in element:
            child_kind = _local(child.tag)
            if child_kind in BPMN_TEXTS:
                properties[BPMN_TEXTS[child_kind]] = _text(child)
            for timer in child.iter(*TIMER_TAGS):
                properties[BPMN_TEXTS[_local(timer.tag)]] = _text(timer)
        for spiff in element.xpath("bpmn:extensionElements/*", namespaces=NSMAP):
            if etree.QName(spiff).namespace != SPIFF_NS:
                continue
            if _local(spiff.tag) in SPIFF_TEXTS:
                properties[_local(spiff.tag)] = _text(spiff)
            for prop in spiff.xpath(PROPERTY_XPATH, namespaces=NSMAP):
                properties[f"property {prop.get('name')}"] = prop.get("value") or ""
        if element_id in lanes:
            properties["lane"] = lanes[element_id]
        found[element_id] = _Element(kind, element.get("name") or "", properties)
    return found


def _layout(root: etree._Element) -> dict[str, tuple[float, ...]]:
    """Each drawn element's bounds (shapes) or waypoints (edges)."""
    layout: dict[str, tuple[float, ...]] = {}
    for shape in root.iter(f"{{{DI_NS}}}BPMNShape"):
        bounds = shape.find(f"{{{DC_NS}}}Bounds")
        if bounds is not None:
            values = (bounds.get(k) for k in ("x", "y", "width", "height"))
            layout[shape.get("bpmnElement", "")] = tuple(float(v or 0) for v in values)
    for edge in root.iter(f"{{{DI_NS}}}BPMNEdge"):
        points = edge.findall(f"{{{DI_NS}}}waypoint")
        layout[edge.get("bpmnElement", "")] = tuple(float(p.get(a) or 0) for p in points for a in ("x", "y"))
    return layout


def _line_diff(old: str, new: str) -> list[str] | None:
    if "\n" not in old and "\n" not in new and len(old) + len(new) < 160:
        return None
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), "old", "new", lineterm="", n=2)
    return list(lines)[2:]  # without the file header lines


def _property_changes(old: _Element, new: _Element) -> Iterator[dict[str, Any]]:
    for name in sorted(set(old.properties) | set(new.properties)):
        before, after = old.properties.get(name), new.properties.get(name)
        if before != after:
            diff = _line_diff(before or "", after or "")
            yield {"property": name, "old": before, "new": after, "diff": diff}


def _summary(element_id: str, element: _Element) -> dict[str, str]:
    return {"id": element_id, "type": element.kind, "name": element.name}


def _root(content: bytes) -> etree._Element | None:
    try:
        return etree.fromstring(content, safe_xml_parser())
    except etree.XMLSyntaxError:
        return None


def diff_bpmn(old: bytes, new: bytes) -> dict[str, list[dict[str, Any]]]:
    """Elements added, removed, changed (with their property changes) and moved."""
    old_root, new_root = _root(old), _root(new)
    if old_root is None or new_root is None:
        return {"added": [], "removed": [], "changed": [], "moved": []}
    before, after = _elements(old_root), _elements(new_root)
    old_layout, new_layout = _layout(old_root), _layout(new_root)
    changed, moved = [], []
    for element_id in sorted(set(before) & set(after)):
        changes = list(_property_changes(before[element_id], after[element_id]))
        if changes:
            changed.append({**_summary(element_id, after[element_id]), "changes": changes})
        elif old_layout.get(element_id) != new_layout.get(element_id):
            moved.append(_summary(element_id, after[element_id]))
    return {
        "added": [_summary(i, after[i]) for i in sorted(set(after) - set(before))],
        "removed": [_summary(i, before[i]) for i in sorted(set(before) - set(after))],
        "changed": changed,
        "moved": moved,
    }


def diff_files(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> dict[str, Any]:
    """Files added, removed and changed (a line diff for text files), and each BPMN file's
    element changes."""
    changed_files = []
    diagrams = {}
    for name in sorted(set(old) & set(new)):
        if old[name] == new[name]:
            continue
        entry: dict[str, Any] = {"name": name}
        if name.endswith(".bpmn"):
            diagrams[name] = diff_bpmn(old[name], new[name])
        else:
            entry["diff"] = _line_diff(_decoded(old[name]), _decoded(new[name]))
        changed_files.append(entry)
    for name in sorted(set(new) - set(old)):
        if name.endswith(".bpmn"):
            diagrams[name] = diff_bpmn(b"<definitions/>", new[name])
    return {
        "files": {
            "added": sorted(set(new) - set(old)),
            "removed": sorted(set(old) - set(new)),
            "changed": changed_files,
        },
        "diagrams": diagrams,
    }


def _decoded(content: bytes) -> str:
    return content.decode("utf-8", errors="replace")

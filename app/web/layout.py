"""A plain left-to-right layout for BPMN files that carry no diagram (no BPMNDiagram element).

bpmn-js can only draw elements that have shapes. Diagrams drawn in a modeler have them; hand-written
files (tests, quick drafts) do not, so the instance page adds shapes here: flow nodes in columns by
their distance from a start event, sub-processes collapsed, boundary events on their host's edge.
"""

from __future__ import annotations

from collections import defaultdict, deque

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
SKIP = {
    "sequenceFlow",
    "laneSet",
    "extensionElements",
    "documentation",
    "dataObject",
    "ioSpecification",
    "property",
    "dataObjectReference",
    "dataStoreReference",
    "association",
    "textAnnotation",
    "multiInstanceLoopCharacteristics",
    "standardLoopCharacteristics",
    "boundaryEvent",
}
SIZES = {"task": (100, 80), "event": (36, 36), "gateway": (50, 50)}
COLUMN, ROW = 170, 130


def _size(tag: str) -> tuple[int, int]:
    if tag.endswith("Event"):
        return SIZES["event"]
    if tag.endswith("Gateway"):
        return SIZES["gateway"]
    return SIZES["task"]


def _columns(nodes: list[str], flows: list[tuple[str, str]], starts: list[str]) -> dict[str, int]:
    outgoing: dict[str, list[str]] = defaultdict(list)
    for source, target in flows:
        outgoing[source].append(target)
    column: dict[str, int] = {}
    queue = deque((s, 0) for s in (starts or nodes[:1]))
    while queue:  # longest-path-ish: a node moves right when reached later, at most len(nodes) times
        node, depth = queue.popleft()
        if node in column and column[node] >= depth or depth > len(nodes):
            continue
        column[node] = depth
        queue.extend((t, depth + 1) for t in outgoing[node])
    for node in nodes:
        column.setdefault(node, 0)
    return column


def with_layout(xml: bytes) -> bytes:
    """The XML unchanged when it has a diagram; otherwise with shapes and edges added."""
    root = etree.fromstring(xml)
    if root.find(f".//{{{BPMNDI}}}BPMNDiagram") is not None:
        return xml
    process = root.find(f"{{{BPMN}}}process")
    if process is None:
        return xml
    nodes, tags, flows, flow_ids = [], {}, [], []
    for child in process:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        if local == "sequenceFlow":
            flows.append((child.get("sourceRef"), child.get("targetRef")))
            flow_ids.append(child.get("id"))
        elif local not in SKIP and child.get("id"):
            nodes.append(child.get("id"))
            tags[child.get("id")] = local
    starts = [n for n in nodes if tags[n] == "startEvent"]
    column = _columns(nodes, flows, starts)
    rows: dict[int, int] = defaultdict(int)
    bounds: dict[str, tuple[int, int, int, int]] = {}
    for node in sorted(nodes, key=lambda n: (column[n], nodes.index(n))):
        width, height = _size(tags[node])
        row = rows[column[node]]
        rows[column[node]] += 1
        x = 60 + column[node] * COLUMN + (100 - width) // 2
        y = 60 + row * ROW + (80 - height) // 2
        bounds[node] = (x, y, width, height)

    diagram = etree.SubElement(root, f"{{{BPMNDI}}}BPMNDiagram", id="Diagram_generated")
    plane = etree.SubElement(
        diagram, f"{{{BPMNDI}}}BPMNPlane", id="Plane_generated", bpmnElement=process.get("id")
    )

    def shape(element_id: str, box: tuple[int, int, int, int], expanded: bool | None = None) -> None:
        item = etree.SubElement(
            plane, f"{{{BPMNDI}}}BPMNShape", id=f"{element_id}_di", bpmnElement=element_id
        )
        if expanded is not None:
            item.set("isExpanded", "false")
        etree.SubElement(
            item, f"{{{DC}}}Bounds", x=str(box[0]), y=str(box[1]), width=str(box[2]), height=str(box[3])
        )

    for node, box in bounds.items():
        shape(node, box, expanded=False if tags[node] in ("subProcess", "transaction") else None)
    attached: dict[str, int] = defaultdict(int)
    for event in process.iter(f"{{{BPMN}}}boundaryEvent"):
        host = bounds.get(event.get("attachedToRef", ""))
        if host is None or event.getparent() is not process:
            continue
        index = attached[event.get("attachedToRef")]
        attached[event.get("attachedToRef")] += 1
        box = (host[0] + host[2] - 30 - index * 40, host[1] + host[3] - 18, 36, 36)
        bounds[event.get("id")] = box
        shape(event.get("id"), box)
    for flow_id, (source, target) in zip(flow_ids, flows, strict=True):
        if source not in bounds or target not in bounds:
            continue
        s, t = bounds[source], bounds[target]
        edge = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNEdge", id=f"{flow_id}_di", bpmnElement=flow_id)
        for x, y in ((s[0] + s[2], s[1] + s[3] // 2), (t[0], t[1] + t[3] // 2)):
            etree.SubElement(edge, f"{{{DI}}}waypoint", x=str(x), y=str(y))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def with_names(xml: bytes, names: dict[str, str]) -> bytes:
    """The diagram with its elements named in the reader's language (labels are drawn from
    `name`); elements without a translation keep theirs."""
    if not names:
        return xml
    root = etree.fromstring(xml)
    for element in root.iter():
        element_id = element.get("id") if isinstance(element.tag, str) else None
        if element_id in names and element.get("name") is not None:
            element.set("name", names[element_id])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

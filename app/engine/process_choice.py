"""Which process of a set of files becomes the model: one named process, the one top-level
executable process, or a collaboration whose pools hold every top-level executable process
(a diagram of several pools, as Camunda Modeler and bpmn.io draw them, runs all its executable
pools together, and message flows between them are delivered inside the instance)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from .errors import Problem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NSMAP = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}


@dataclass(frozen=True)
class Choice:
    """The model's id and the file defining it; `pools` are the executable processes of a
    collaboration (empty for a single process)."""

    id: str
    file: str
    pools: tuple[str, ...] = ()


def _executable(roots: Mapping[str, etree._Element]) -> tuple[dict[str, str], set[str]]:
    """(executable process id -> file, ids some call activity calls)."""
    executable: dict[str, str] = {}
    called: set[str] = set()
    for name, root in roots.items():
        if not name.endswith(".bpmn"):
            continue
        for process in root.xpath("//bpmn:process[@isExecutable='true']", namespaces=NSMAP):
            executable[process.get("id")] = name
        called.update(root.xpath("//bpmn:callActivity/@calledElement", namespaces=NSMAP))
    return executable, called


def _collaborations(roots: Mapping[str, etree._Element], executable: Mapping[str, str]) -> dict[str, Choice]:
    found = {}
    for name, root in roots.items():
        if not name.endswith(".bpmn"):
            continue
        # SpiffWorkflow reads the first collaboration of a file; so do we.
        for collaboration in root.xpath("(//bpmn:collaboration)[1]", namespaces=NSMAP):
            refs = collaboration.xpath("bpmn:participant/@processRef", namespaces=NSMAP)
            pools = tuple(dict.fromkeys(str(r) for r in refs if r in executable))
            if pools:
                found[collaboration.get("id")] = Choice(collaboration.get("id"), name, pools)
    return found


def choose(
    roots: Mapping[str, etree._Element], requested: str | None, problems: list[Problem]
) -> Choice | None:
    """The process (or collaboration) to deploy; None with a problem added when there is none."""
    executable, called = _executable(roots)
    collaborations = _collaborations(roots, executable)
    if requested:
        if requested in collaborations:
            return collaborations[requested]
        if requested not in executable:
            problems.append(
                Problem(None, None, requested, f"no executable process '{requested}' in the files")
            )
            return None
        return Choice(requested, executable[requested])
    top = sorted(set(executable) - called)
    if len(top) == 1:
        return Choice(top[0], executable[top[0]])
    covering = [c for c in collaborations.values() if set(top) <= set(c.pools)]
    if top and len(covering) == 1:
        return covering[0]
    message = (
        'no executable process found: mark a process as executable (isExecutable="true")'
        if not top
        else f"several top-level processes ({', '.join(top)}) and no collaboration holding them all: "
        "name the one to deploy"
    )
    problems.append(Problem(None, None, None, message))
    return None


def specs(parser: SpiffBpmnParser, choice: Choice) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    """The chosen spec and every spec it runs (called processes, the collaboration's pools)."""
    if choice.pools:
        return parser.get_collaboration(choice.id)
    return parser.get_spec(choice.id), parser.get_subprocess_specs(choice.id)


def _properties(process: etree._Element) -> dict[str, str]:
    return {
        prop.get("name"): prop.get("value") or ""
        for prop in process.xpath(
            "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NSMAP
        )
    }


def metadata(root: etree._Element, choice: Choice) -> dict[str, str]:
    """The model's name and its process properties (a collaboration: its pools' properties, the
    first pool's winning, and the name of the collaboration or of its pools)."""
    if not choice.pools:
        found = root.xpath("//bpmn:process[@id=$pid]", namespaces=NSMAP, pid=choice.id)
        if not found:
            return {}
        return {"name": found[0].get("name") or choice.id, **_properties(found[0])}
    merged: dict[str, str] = {}
    names = []
    for pool in reversed(choice.pools):
        for process in root.xpath("//bpmn:process[@id=$pid]", namespaces=NSMAP, pid=pool):
            merged.update(_properties(process))
    for pool in choice.pools:
        participant = root.xpath("//bpmn:participant[@processRef=$pid]/@name", namespaces=NSMAP, pid=pool)
        process_name = root.xpath("//bpmn:process[@id=$pid]/@name", namespaces=NSMAP, pid=pool)
        names.append(str((participant or process_name or [pool])[0]))
    collaboration = root.xpath("//bpmn:collaboration[@id=$cid]/@name", namespaces=NSMAP, cid=choice.id)
    return {**merged, "name": str(collaboration[0]) if collaboration else " + ".join(names)}

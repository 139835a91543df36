"""BPMN/DMN/form files -> process specs, after every check a deployment must pass.

Nothing here stores anything: a bundle either parses completely or raises
`BundleInvalid` with every problem found, each located by file, line and element id.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from . import process_choice, translations
from .dmn_checks import check_decisions
from .element_checks import FORM_PROPERTIES, check_task_spec, lane_warning, load_forms
from .errors import BundleInvalid, Problem
from .process_choice import NSMAP
from .timer_checks import TimerEvaluator

MAX_FILE_BYTES = 2 * 1024 * 1024
ACCEPTED_SUFFIXES = (".bpmn", ".dmn", ".json")
PLAIN_NAMES = "file names must be plain names without folders"


@dataclass(frozen=True)
class ProcessBundle:
    """A parsed, checked process model, ready to be stored as a version."""

    process_id: str
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    files: dict[str, bytes]
    metadata: dict[str, str] = field(default_factory=dict)
    start_messages: list[str] = field(default_factory=list)
    lanes: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    new_groups: list[str] = field(default_factory=list)  # lanes naming no group yet


def safe_xml_parser() -> etree.XMLParser:
    # No DTDs, no entity expansion, no network: uploaded XML is untrusted.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _parse_xml(name: str, content: bytes, problems: list[Problem]) -> etree._Element | None:
    try:
        root = etree.fromstring(content, safe_xml_parser())
    except etree.XMLSyntaxError as exc:
        problems.append(Problem(name, exc.lineno, None, f"malformed XML: {exc.msg}"))
        return None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        problems.append(Problem(name, 1, None, "XML with a DOCTYPE or entity declarations is not accepted"))
        return None
    return root


def file_problems(name: str, size: int) -> list[str]:
    """What is wrong with a file's name or size for a deployment (or an editor's draft of one)."""
    problems = []
    if posixpath.basename(name) != name or name.startswith("."):
        problems.append(PLAIN_NAMES)
    elif not name.endswith(ACCEPTED_SUFFIXES):
        problems.append("only .bpmn, .dmn and .json files can be deployed")
    if size > MAX_FILE_BYTES:
        problems.append(f"file is larger than {MAX_FILE_BYTES} bytes")
    return problems


def _check_names(files: Mapping[str, bytes], problems: list[Problem]) -> None:
    for name, content in files.items():
        problems.extend(Problem(name, None, None, message) for message in file_problems(name, len(content)))


def _line_of(roots: Mapping[str, etree._Element], file: str | None, element_id: str | None) -> int | None:
    if not element_id:
        return None
    candidates = [roots[file]] if file in roots else list(roots.values())
    for root in candidates:
        found = root.xpath("//*[@id=$eid]", eid=element_id)
        if found:
            return found[0].sourceline
    return None


def _problem_from_validation(exc: ValidationException, roots: Mapping[str, etree._Element]) -> Problem:
    file = exc.file_name or None
    element_id = exc.id or None
    line = exc.line_number if isinstance(exc.line_number, int) and exc.line_number else None
    return Problem(
        file, line or _line_of(roots, file, element_id), element_id, str(exc.args[0] if exc.args else exc)
    )


def _all_specs(bundle_spec: BpmnProcessSpec, subprocess_specs: Mapping[str, BpmnProcessSpec]):
    yield bundle_spec
    yield from subprocess_specs.values()


def _already_reported(
    problem: Problem, decision_problems: Mapping[str, list[Problem]], roots: Mapping[str, etree._Element]
) -> bool:
    """Whether an error of the engine's parser repeats what the decision checks found: it stops at
    the first cell it cannot read, and reports it on the cell or on the task calling the decision."""
    reported = [p for problems in decision_problems.values() for p in problems]
    if any((p.file, p.element_id) == (problem.file, problem.element_id) for p in reported):
        return True
    root = roots.get(problem.file or "")
    if root is None or not problem.element_id:
        return False
    called = root.xpath(
        "//bpmn:businessRuleTask[@id=$eid]/bpmn:extensionElements/spiffworkflow:calledDecisionId/text()",
        namespaces=NSMAP,
        eid=problem.element_id,
    )
    return any(str(ref).strip() in decision_problems for ref in called)


def parse_bundle(
    files: Mapping[str, bytes],
    *,
    known_groups: Collection[str] | None = None,
    process_id: str | None = None,
    evaluate: TimerEvaluator | None = None,
) -> ProcessBundle:
    """Check and parse a set of files; raise BundleInvalid listing every problem. `evaluate`
    runs timer expressions that need no instance data (in a sandbox worker), to check them."""
    problems: list[Problem] = []
    if not files:
        raise BundleInvalid([Problem(None, None, None, "no files were given")])
    _check_names(files, problems)
    if problems:
        raise BundleInvalid(problems)

    roots: dict[str, etree._Element] = {}
    for name, content in files.items():
        if name.endswith((".bpmn", ".dmn")):
            root = _parse_xml(name, content, problems)
            if root is not None:
                roots[name] = root
    forms = load_forms(files, problems)
    # SpiffWorkflow names its own start and end tasks like this; an element with such an id
    # silently replaces them and the process parses to nothing.
    for name, root in roots.items():
        for element in root.xpath("//*[@id='Start' or @id='End' or contains(@id, '.EndJoin')]"):
            problems.append(
                Problem(
                    name,
                    element.sourceline,
                    element.get("id"),
                    "this id is reserved by the engine: choose another (e.g. StartEvent_1)",
                )
            )
    if problems:
        raise BundleInvalid(problems)

    parser = SpiffBpmnParser(validator=VALIDATOR)
    for name, root in roots.items():
        try:
            if name.endswith(".dmn"):
                parser.add_dmn_xml(root, filename=name)
            else:
                parser.add_bpmn_xml(root, filename=name)
        except ValidationException as exc:
            problems.append(_problem_from_validation(exc, roots))
    if problems:
        raise BundleInvalid(problems)
    decision_problems = check_decisions(parser)
    for found in decision_problems.values():
        problems.extend(found)

    choice = process_choice.choose(roots, process_id, problems)
    if choice is None:
        raise BundleInvalid(problems)
    chosen, main_file = choice.id, choice.file
    try:
        spec, subprocess_specs = process_choice.specs(parser, choice)
    except ValidationException as exc:
        problem = _problem_from_validation(exc, roots)
        if not _already_reported(problem, decision_problems, roots):
            problems.append(problem)
        raise BundleInvalid(problems) from exc

    catalogues = translations.catalogues_of(files, roots, problems)
    start_messages: list[str] = []
    lanes: set[str] = set()
    warnings: list[Problem] = []
    for process_spec in _all_specs(spec, subprocess_specs):
        file = process_spec.file
        catalogue = catalogues.get(file or "", {})
        for task_spec in process_spec.task_specs.values():
            if catalogue and getattr(task_spec, "bpmn_id", None):
                translations.add_properties(
                    task_spec, translations.element_properties(catalogue, task_spec.bpmn_id)
                )
            checks = check_task_spec(task_spec, file, forms, known_groups, evaluate)
            for where, element_id, message in checks:
                problems.append(Problem(where, _line_of(roots, where, element_id), element_id, message))
            if getattr(task_spec, "lane", None):
                lanes.add(task_spec.lane)
            warning = lane_warning(task_spec, known_groups)
            if warning:
                element_id = task_spec.bpmn_id
                warnings.append(Problem(file, _line_of(roots, file, element_id), element_id, warning))
            if process_spec is spec and isinstance(task_spec, StartEvent):
                event_definition = getattr(task_spec, "event_definition", None)
                if isinstance(event_definition, MessageEventDefinition):
                    start_messages.append(event_definition.name)
    metadata = process_choice.metadata(roots[main_file], choice)
    metadata.update(translations.process_properties(catalogues.get(main_file, {})))
    for prop in FORM_PROPERTIES:
        form_name = metadata.get(prop)
        if form_name and form_name not in forms:
            message = f"start form {prop} '{form_name}' is not among the deployed (valid) form files"
            problems.append(Problem(main_file, _line_of(roots, main_file, chosen), chosen, message))
    for group in (g.strip() for g in metadata.get("start_groups", "").split(",")):
        if group and known_groups is not None and group not in known_groups:
            message = f"start_groups: '{group}' does not name an existing group"
            problems.append(Problem(main_file, _line_of(roots, main_file, chosen), chosen, message))
    if problems:
        raise BundleInvalid(problems, warnings)

    return ProcessBundle(
        process_id=chosen,
        spec=spec,
        subprocess_specs=subprocess_specs,
        files=dict(files),
        metadata=metadata,
        start_messages=sorted(set(start_messages)),
        lanes=sorted(lanes),
        warnings=warnings,
        new_groups=sorted(lane for lane in lanes if known_groups is not None and lane not in known_groups),
    )


def referenced_catalogues(bpmn_content: bytes) -> set[str]:
    """The translation catalogues a BPMN file's processes may have."""
    root = _root_or_none(bpmn_content)
    if root is None:
        return set()
    return {translations.catalogue_name(str(p)) for p in root.xpath("//bpmn:process/@id", namespaces=NSMAP)}


def _root_or_none(content: bytes) -> etree._Element | None:
    try:
        return etree.fromstring(content, safe_xml_parser())
    except etree.XMLSyntaxError:
        return None  # parse_bundle reports it with its line


def referenced_forms(bpmn_content: bytes) -> set[str]:
    """Form file names a BPMN file references (to pick them from a forms folder)."""
    root = _root_or_none(bpmn_content)
    if root is None:
        return set()
    names = set()
    for prop in root.xpath("//spiffworkflow:property", namespaces=NSMAP):
        if prop.get("name") in FORM_PROPERTIES and prop.get("value"):
            names.add(prop.get("value"))
    return names


def called_processes(bpmn_content: bytes) -> tuple[set[str], set[str]]:
    """(process ids defined, process ids called) in one BPMN file."""
    root = _root_or_none(bpmn_content)
    if root is None:
        return set(), set()
    defined = set(root.xpath("//bpmn:process/@id", namespaces=NSMAP))
    called = set(root.xpath("//bpmn:callActivity/@calledElement", namespaces=NSMAP))
    return defined, called


def model_id_of(files: Mapping[str, bytes]) -> str | None:
    """The id a bundle would deploy as (its one top-level process, or its collaboration), or
    None when the files do not say (the deploy checks then say why)."""
    roots: dict[str, etree._Element] = {}
    for name, content in files.items():
        root = _root_or_none(content) if name.endswith(".bpmn") else None
        if root is not None:
            roots[name] = root
    choice = process_choice.choose(roots, None, [])
    return choice.id if choice is not None else None

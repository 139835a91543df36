"""Static checks of the shipped process models and their forms."""

import json
import re
from datetime import date
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from tests.procedures.harness import BPMN_DIR, FORMS_DIR, LANE_GROUPS

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
PROCESSES = ["council_poll", "deputy_rotation", "policy_document", "appeal"]
GROUPS = set(LANE_GROUPS)
LANGS = ("kk", "ru", "en")
RULE_TAGS = ("userTask", "scriptTask", "callActivity", "boundaryEvent", "subProcess")
ID_PATTERN = re.compile(
    r"^(Process|Participant|Collaboration|Definitions|LaneSet|Lane|Start|End|Task|Script|"
    r"Gateway|Flow|Timer|SubProcess|CallActivity|DataRef|DataInput|DataOutput|Property|"
    r"TimerDef|Plane|Diagram)_[A-Za-z0-9]+(_[A-Za-z0-9]+)*(_di)?$"
)
VARIABLE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
FORM_FILES = sorted(FORMS_DIR.glob("*.json"))


def tree(name: str) -> etree._ElementTree:
    return etree.parse(str(BPMN_DIR / f"{name}.bpmn"))


def props(element) -> dict[str, str]:
    return {
        p.get("name"): p.get("value")
        for p in element.xpath(
            "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS
        )
    }


def catalogue(name: str) -> dict:
    return json.loads((BPMN_DIR / f"{name}.translations.json").read_text())


def user_tasks(name: str):
    return tree(name).xpath("//bpmn:userTask", namespaces=NS)


@pytest.mark.parametrize("name", PROCESSES)
def test_parses_with_xsd_validation_and_has_one_executable_process(name: str) -> None:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_files(sorted(str(p) for p in BPMN_DIR.glob("*.bpmn")))
    assert parser.get_spec(name).name == name
    parser.get_subprocess_specs(name)
    processes = tree(name).xpath("//bpmn:process", namespaces=NS)
    assert [(p.get("id"), p.get("isExecutable")) for p in processes] == [(name, "true")]


@pytest.mark.parametrize("name", PROCESSES)
def test_process_metadata(name: str) -> None:
    process = tree(name).xpath("//bpmn:process", namespaces=NS)[0]
    meta = props(process)
    assert meta["legal_basis_document"]
    date.fromisoformat(meta["in_force_from"])
    assert meta["in_force_to"] == "" or date.fromisoformat(meta["in_force_to"]) > date.fromisoformat(
        meta["in_force_from"]
    )
    assert meta["title_en"] and meta["description_en"]
    texts = catalogue(name)["process"]
    assert all(
        texts[key][lang] for key in ("name", "description", "legal_basis_document") for lang in ("kk", "ru")
    )
    assert process.xpath("./bpmn:documentation/text()", namespaces=NS)


@pytest.mark.parametrize("name", PROCESSES)
def test_every_user_task_sits_in_a_lane_and_has_forms_in_three_languages(name: str) -> None:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_files(sorted(str(p) for p in BPMN_DIR.glob("*.bpmn")))
    specs = [parser.get_spec(name), *parser.get_subprocess_specs(name).values()]
    lanes = {
        s.bpmn_id: s.lane for spec in specs for s in spec.task_specs.values() if getattr(s, "bpmn_id", None)
    }
    for task in user_tasks(name):
        task_id = task.get("id")
        assert lanes[task_id] in GROUPS, task_id
        p = props(task)
        assert task.get("name") and "title_kk" not in p, task_id  # kk and ru live in the catalogue
        assert task.xpath(
            "./bpmn:extensionElements/spiffworkflow:instructionsForEndUser/text()", namespaces=NS
        )
        schema_file, ui_file = p["formJsonSchemaFilename"], p["formUiSchemaFilename"]
        assert schema_file.endswith(".schema.json") and ui_file == schema_file.replace(
            ".schema.", ".uischema."
        )
        schema = json.loads((FORMS_DIR / schema_file).read_text())
        ui = json.loads((FORMS_DIR / ui_file).read_text())
        assert ui["ui:order"] == list(schema["properties"])
        assert set(ui["ui:title"]) == set(LANGS)
        for field, spec in schema["properties"].items():
            assert set(ui[field]["ui:label"]) == set(LANGS), (ui_file, field)
            if "ui:help" in ui[field]:
                assert set(ui[field]["ui:help"]) == set(LANGS), (ui_file, field)
            if "enum" in spec:
                names = ui[field]["ui:enumNames"]
                assert set(names) == set(LANGS)
                assert all(len(names[lang]) == len(spec["enum"]) for lang in LANGS), (ui_file, field)


@pytest.mark.parametrize("name", PROCESSES)
def test_every_rule_element_cites_its_legal_basis(name: str) -> None:
    doc = tree(name)
    elements = doc.xpath(" | ".join(f"//bpmn:{t}" for t in RULE_TAGS), namespaces=NS)
    elements += doc.xpath("//bpmn:exclusiveGateway[@name]", namespaces=NS)
    for element in elements:
        basis = props(element).get("legal_basis")
        documentation = " ".join(element.xpath("./bpmn:documentation/text()", namespaces=NS))
        assert documentation, element.get("id")
        if basis is None:
            # A step of practice, not of law, says so and cites nothing.
            assert "[practice]" in documentation, element.get("id")
            continue
        assert re.match(r"^(Regulations para \d+|Law on the Assembly art\. \d+|APPC)", basis), element.get(
            "id"
        )


@pytest.mark.parametrize("name", PROCESSES)
def test_lanes_are_named_groups(name: str) -> None:
    for lane in tree(name).xpath("//bpmn:lane", namespaces=NS):
        assert lane.get("name") in GROUPS


@pytest.mark.parametrize("name", PROCESSES)
def test_ids_are_readable_and_every_element_is_drawn(name: str) -> None:
    doc = tree(name)
    for element in doc.xpath("//*[@id]"):
        if etree.QName(element).localname in ("dataObject", "inputDataItem"):
            assert VARIABLE_PATTERN.match(element.get("id"))  # the id is the name of the variable
            continue
        assert ID_PATTERN.match(element.get("id")) or element.get("id") == name, element.get("id")
    drawn = {s.get("bpmnElement") for s in doc.xpath("//bpmndi:BPMNShape | //bpmndi:BPMNEdge", namespaces=NS)}
    nodes = doc.xpath(
        "//bpmn:process//bpmn:*[bpmn:incoming or bpmn:outgoing or self::bpmn:boundaryEvent "
        "or self::bpmn:dataObjectReference] | //bpmn:sequenceFlow | //bpmn:lane",
        namespaces=NS,
    )
    missing = {n.get("id") for n in nodes} - drawn
    assert not missing
    for bounds in doc.xpath("//bpmndi:BPMNShape/*[local-name()='Bounds']", namespaces=NS):
        assert float(bounds.get("width")) > 0 and float(bounds.get("height")) > 0


@pytest.mark.parametrize("path", FORM_FILES, ids=[p.name for p in FORM_FILES])
def test_form_files_are_valid_and_pretty(path: Path) -> None:
    text = path.read_text()
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if path.name.endswith(".schema.json"):
        Draft202012Validator.check_schema(data)
        assert data["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert data["type"] == "object" and data["additionalProperties"] is False
        assert data["title"] and data["description"] and data["required"]
        assert (path.parent / path.name.replace(".schema.", ".uischema.")).exists()


def test_every_form_is_used() -> None:
    keys = ("formJsonSchemaFilename", "formUiSchemaFilename")
    used = {props(t)[k] for name in PROCESSES for t in user_tasks(name) for k in keys}
    for name in PROCESSES:
        process = tree(name).xpath("//bpmn:process", namespaces=NS)[0]
        start_props = process.xpath(
            "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS
        )
        used |= {p.get("value") for p in start_props if p.get("name") in keys}
    assert {p.name for p in FORM_FILES} == used


@pytest.mark.parametrize("name", PROCESSES)
def test_diagram_code_compiles_in_the_sandbox(name: str) -> None:
    from app.engine import scripting as sandbox

    doc = tree(name)
    scripts = doc.xpath(
        "//bpmn:script/text() | //spiffworkflow:preScript/text() | //spiffworkflow:postScript/text()",
        namespaces=NS,
    )
    expressions = doc.xpath(
        "//bpmn:conditionExpression/text() | //bpmn:timeDate/text() | "
        "//bpmn:completionCondition/text() | //bpmn:loopDataInputRef/text()",
        namespaces=NS,
    )
    for source in scripts:
        assert sandbox.check_script(source) is None, source
    for source in expressions:
        assert sandbox.check_expression(source) is None, source


@pytest.mark.parametrize("name", PROCESSES)
def test_the_servers_deploy_check_accepts_the_bundle(name: str) -> None:
    from app.engine import parser as engine_parser

    files = {p.name: p.read_bytes() for p in [*BPMN_DIR.glob("*.bpmn"), *FORM_FILES]}
    bundle = engine_parser.parse_bundle(files, known_groups=GROUPS, process_id=name)
    assert bundle.process_id == name
    assert bundle.metadata["legal_basis_document"]


def test_due_dates_of_tasks_are_expressions_the_sandbox_accepts() -> None:
    from app.engine import scripting as sandbox

    for name in PROCESSES:
        for task in user_tasks(name):
            due = props(task).get("due_at")
            if due:
                assert sandbox.check_expression(due) is None, (name, task.get("id"))


@pytest.mark.parametrize("name", PROCESSES)
def test_every_element_and_instruction_has_kazakh_and_russian(name: str) -> None:
    from app.engine import translations

    doc = tree(name)
    texts = translations.diagram_texts(doc.getroot())
    assert len(texts) > 15
    assert translations.diagram_gaps((BPMN_DIR / f"{name}.bpmn").read_bytes(), catalogue(name)) == []
    assert list(translations.catalogue_problems(catalogue(name), {str(i) for i in doc.xpath("//@id")})) == []
    placeholders = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
    for element_id, entry in catalogue(name)["elements"].items():
        if "instructions" in entry:
            english = doc.xpath(
                f"//*[@id='{element_id}']/bpmn:extensionElements/spiffworkflow:instructionsForEndUser/text()",
                namespaces=NS,
            )[0]
            for lang in ("kk", "ru"):  # the same data in every language
                assert set(placeholders.findall(entry["instructions"][lang])) == set(
                    placeholders.findall(english)
                )


@pytest.mark.parametrize(
    "path", [p for p in FORM_FILES if p.name.endswith(".schema.json")], ids=lambda p: p.name
)
def test_every_described_field_has_its_help_in_three_languages(path: Path) -> None:
    # A description without a translated help would show the English text to every reader.
    schema = json.loads(path.read_text())
    ui = json.loads((path.parent / path.name.replace(".schema.", ".uischema.")).read_text())
    for name, spec in schema.get("properties", {}).items():
        if spec.get("description"):
            assert set((ui.get(name) or {}).get("ui:help") or {}) == set(LANGS), (path.name, name)

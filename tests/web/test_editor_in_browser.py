"""The editor in Chromium: council_poll changed in the browser (a user task with its lane and form,
a gateway whose flows lack conditions shown at their element, fixed in the properties panel),
validated, deployed with a comment and run; the comparison colours what was added; a diagram made
in Camunda Modeler imported, deployed and run to its end by its initiator."""

from __future__ import annotations

import json
from typing import Any

from app.services.modelling import deployments
from app.services.people import users
from app.services.people.users import SYSTEM
from app.services.running import instance_search, instances
from tests.conftest import FIXTURES
from tests.web.live import LiveServer
from tests.web.test_browser import shot, sign_in

FORM = json.dumps(
    {
        "type": "object",
        "required": ["withdrawn", "note"],
        "properties": {
            "withdrawn": {"type": "boolean", "title": "The request was withdrawn"},
            "note": {"type": "string", "title": "Note", "minLength": 1},
        },
    },
    indent=2,
)

# What an analyst draws with the palette, done through the modeller's own API (drag and drop
# coordinates are not what this test is about): a user task after the start event, in the
# Secretariat's lane, then a gateway with a flow back to the poll and one to a new end event.
DRAW = """() => {
  const modeler = window.editorApp.modeler;
  const registry = modeler.get('elementRegistry');
  const modeling = modeler.get('modeling');
  const factory = modeler.get('elementFactory');
  const bpmn = modeler.get('bpmnFactory');
  const shape = (type, id) => factory.createShape({ type, businessObject: bpmn.create(type, { id }) });
  const flow = id => ({ type: 'bpmn:SequenceFlow',
    businessObject: bpmn.create('bpmn:SequenceFlow', { id }) });
  const start = registry.get('Start_PollRequested');
  const lane = registry.get('Lane_Secretariat');
  const [ oldFlow ] = start.outgoing;
  const next = oldFlow.target;
  modeling.removeConnection(oldFlow);
  const task = modeling.createShape(
    shape('bpmn:UserTask', 'Task_CheckRequest'), { x: start.x + 140, y: lane.y + lane.height - 45 }, lane);
  modeling.updateLabel(task, 'Check the request');
  const gateway = modeling.createShape(
    shape('bpmn:ExclusiveGateway', 'Gateway_Withdrawn'), { x: task.x + 180, y: task.y + 40 }, lane);
  const end = modeling.createShape(
    shape('bpmn:EndEvent', 'End_Withdrawn'), { x: gateway.x + 90, y: gateway.y + 25 }, lane);
  modeling.connect(start, task, flow('Flow_ToCheck'));
  modeling.connect(task, gateway, flow('Flow_ToWithdrawn'));
  modeling.updateLabel(gateway, 'Withdrawn?');
  modeling.updateLabel(end, 'Request withdrawn');
  modeling.updateLabel(modeling.connect(gateway, next, flow('Flow_GoOn')), 'no');
  modeling.updateLabel(modeling.connect(gateway, end, flow('Flow_Withdrawn')), 'yes');
  return task.businessObject.id;
}"""


def _until(page: Any, condition: str) -> None:
    # Polled on a timer: a page that is busy drawing can starve animation frames.
    page.wait_for_function(condition, polling=200)


def _open_editor(page: Any, live: LiveServer, model_id: str) -> None:
    page.goto(f"{live.url}/editor/{model_id}")
    _until(page, "() => window.editorApp && window.editorApp.modeler && document.querySelector('.djs-shape')")


def _select(page: Any, element_id: str, name: str) -> None:
    """Select an element as a click on it would, and wait for the panel to show it."""
    page.evaluate(
        "id => { const m = window.editorApp.modeler;"
        " m.get('selection').select(m.get('elementRegistry').get(id)); }",
        element_id,
    )
    page.locator(".bio-properties-panel-header-label", has_text=name).wait_for()


def _open_group(page: Any, group_id: str) -> Any:
    group = page.locator(f"[data-group-id='group-{group_id}']")
    header = group.locator(".bio-properties-panel-group-header")
    if "open" not in (header.get_attribute("class") or ""):
        header.click()
    return group


def _type_code(page: Any, entry: Any, text: str) -> None:
    entry.locator(".cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(text)


def test_council_poll_changed_validated_deployed_and_run(page: Any, live: LiveServer) -> None:
    before = live.ids["poll_instance_id"]  # started on version 1
    sign_in(page, live, "admin")
    _open_editor(page, live, "council_poll")
    assert page.evaluate(DRAW) == "Task_CheckRequest"

    # A form for the new task, from its properties, edited in the code editor with a live preview
    _select(page, "Task_CheckRequest", "Check the request")
    group = _open_group(page, "spiff-user-task")
    group.locator("[data-entry-id='spiff-new-form'] button").click()
    form_tab = "#file-tabs [data-file='council_poll_checkrequest.schema.json']"
    page.wait_for_selector(form_tab + "[aria-selected='true']")  # opened at once
    _type_code(page, page.locator(".editor-pane:not([hidden])"), FORM)
    _until(page, "() => document.querySelector('#form-preview').textContent.includes('withdrawn')")
    page.select_option("#preview-lang", "en")
    page.click("#try-submit")
    _until(page, "() => document.querySelector('#form-preview .field-error')")
    shot(page, "60-editor-form-preview")

    # Lint shows the gateway's flows without conditions at their element; the panel fixes them
    page.click("#file-tabs [data-file='council_poll.bpmn']")
    page.click("#validate-button")
    # The engine's own check stops at the first flow without a condition, whichever comes first
    missing = page.locator(
        "#problems [data-element-id='Flow_Withdrawn'], #problems [data-element-id='Flow_GoOn']"
    ).first
    missing.wait_for()
    flow_id = missing.get_attribute("data-element-id")
    missing.click()
    assert page.evaluate("() => window.editorApp.modeler.get('selection').get().map(e => e.id)") == [flow_id]
    shot(page, "61-editor-problem-selected")
    for flow, name, condition in (
        ("Flow_Withdrawn", "yes", "withdrawn"),
        ("Flow_GoOn", "no", "not withdrawn"),
    ):
        _select(page, flow, name)
        _type_code(
            page, _open_group(page, "spiff-condition").locator("[data-entry-id='spiff-condition']"), condition
        )
    page.click("#validate-button")
    _until(
        page,
        "() => !document.querySelector(\"#problems [data-element-id='Flow_Withdrawn'],"
        " #problems [data-element-id='Flow_GoOn']\")",
    )

    # Deployed with a comment: a new version; the poll started before stays on version 1
    page.click("#deploy-button")
    page.fill("#deploy-comment", "A check of the request before the poll")
    page.click("#deploy-confirm")
    page.wait_for_url(f"{live.url}/models/council_poll")
    shot(page, "62-model-versions")
    model = deployments.get_model(live.ctx, "council_poll")
    assert model["version"] == 2 and model["comment"] == "A check of the request before the poll"
    carol = users.actor_for(live.ctx, "carol")
    assert instances.get_instance(live.ctx, carol, before)["version"] == 1
    started = instances.start_instance(live.ctx, carol, "council_poll", {})
    assert started["version"] == 2 and started["tasks"][0]["name"] == "Task_CheckRequest"
    page.context.clear_cookies()  # signed out
    sign_in(page, live, "carol", "/inbox?scope=available")
    assert "Check the request" in page.inner_text("main")


def test_the_comparison_colours_the_added_task(page: Any, live: LiveServer) -> None:
    sign_in(page, live, "admin")
    page.goto(f"{live.url}/models/council_poll/compare?from=1&to=2")
    _until(page, "() => window.compareResult")
    result = page.evaluate("window.compareResult")
    assert "Task_CheckRequest" in result["added"]
    assert page.locator("#compare-new [data-element-id='Task_CheckRequest'].diff-added").count() == 1
    assert page.locator("tr.added[data-element='Task_CheckRequest']").count() == 1
    shot(page, "63-compare-versions")


def test_a_camunda_diagram_imported_deployed_and_run_by_its_initiator(page: Any, live: LiveServer) -> None:
    sign_in(page, live, "admin")
    page.goto(f"{live.url}/models")
    page.set_input_files("#import-files", str(FIXTURES / "elsewhere" / "camunda_one_task.bpmn"))
    page.click("#import-form button[type=submit]")
    page.wait_for_url(f"{live.url}/editor/Process_Leave")
    _until(page, "() => window.editorApp && document.querySelector('.djs-shape')")
    page.click("#validate-button")
    page.locator("#problems [data-element-id='Activity_Approve']").first.wait_for()
    shot(page, "64-imported-warning")
    page.click("#deploy-button")
    page.fill("#deploy-comment", "Imported from Camunda Modeler")
    page.click("#deploy-confirm")
    page.wait_for_url(f"{live.url}/models/Process_Leave")
    page.goto(f"{live.url}/start")
    page.click("form[action$='/Process_Leave'] button[type=submit]")
    page.goto(f"{live.url}/inbox?scope=mine")
    page.click("text=Approve the leave")
    page.click("form[data-draft] button[type=submit]")
    page.wait_for_url(f"{live.url}/inbox")
    admin = users.actor_for(live.ctx, "admin")
    [case] = instance_search.list_instances(live.ctx, admin, model_id="Process_Leave")
    assert case["status"] == "complete"
    shot(page, "65-imported-done")


def test_a_messages_correlation_is_added_and_edited_in_the_panel(page: Any, live: LiveServer) -> None:
    files = {"two_pools.bpmn": (FIXTURES / "elsewhere" / "camunda_two_pools.bpmn").read_bytes()}
    deployments.deploy(live.ctx, SYSTEM, files)
    sign_in(page, live, "admin")
    _open_editor(page, live, "Collaboration_0x1")
    _select(page, "Event_Send", "Send order")
    group = _open_group(page, "spiff-message")
    group.locator("[data-entry-id='spiff-correlation-new'] input").fill("order_id")
    added = group.locator("[data-entry-id='spiff-correlation-order_id'] input")
    added.wait_for()
    assert added.input_value() == "order_id"
    added.fill("order['id']")
    _until(
        page,
        "() => window.editorApp.modeler.getDefinitions().rootElements.some(e =>"
        " e.$type === 'bpmn:CorrelationProperty' && e.correlationPropertyRetrievalExpression.some(r =>"
        " r.messagePath && r.messagePath.body === \"order['id']\"))",
    )
    xml = page.evaluate("async () => (await window.editorApp.modeler.saveXML()).xml").replace("&#39;", "'")
    assert '<bpmn:correlationProperty id="order_id" name="order_id">' in xml
    assert '<bpmn:correlationPropertyRetrievalExpression messageRef="Message_Order">' in xml
    assert "<bpmn:formalExpression>order['id']</bpmn:formalExpression>" in xml
    page.click("#validate-button")
    page.wait_for_selector("#editor-app .editor-notices p")
    shot(page, "66-editor-correlation")


def test_a_decision_table_is_added_edited_in_dmn_js_and_checked(page: Any, live: LiveServer) -> None:
    sign_in(page, live, "admin")
    _open_editor(page, live, "council_poll")
    assert (
        page.evaluate("() => document.querySelectorAll('link[data-dmn-styles]').length") == 0
    )  # not loaded yet
    page.click("#new-dmn-button")
    page.fill("#new-file-name", "poll_rules")
    page.click("#new-file-confirm")
    page.wait_for_selector("#file-tabs [data-file='poll_rules.dmn'][aria-selected='true']")
    page.wait_for_selector(".tjs-container")
    assert page.evaluate("() => document.querySelectorAll('link[data-dmn-styles]').length") == 1
    files = page.evaluate("() => window.editorApp.files()")
    assert "<decisionTable" in files["poll_rules.dmn"] and 'hitPolicy="FIRST"' in files["poll_rules.dmn"]
    page.click("#validate-button")
    page.wait_for_selector("#editor-app .editor-notices p")
    assert not page.locator("#problems [data-element-id='DecisionTable_poll_rules']").count()
    shot(page, "67-editor-decision-table")


def test_a_diagram_without_its_drawing_is_laid_out_to_be_edited(page: Any, live: LiveServer) -> None:
    assert b"BPMNDiagram" not in deployments.get_file(live.ctx, "approval", "approval.bpmn")
    sign_in(page, live, "admin")
    _open_editor(page, live, "approval")
    drawn = page.evaluate("() => window.editorApp.modeler.get('elementRegistry').getAll().map(e => e.id)")
    assert {"StartEvent", "Task_Review", "Script_Record", "EndEvent"} <= set(drawn)
    assert page.locator("#editor-app .editor-notices p").count() >= 1
    xml = page.evaluate("async () => (await window.editorApp.modeler.saveXML()).xml")
    assert "bpmndi:BPMNShape" in xml and "spiffworkflow:instructionsForEndUser" in xml
    shot(page, "68-editor-laid-out")


def test_the_editor_and_the_comparison_have_no_serious_accessibility_violations(
    page: Any, live: LiveServer
) -> None:
    from tests.web.test_accessibility import serious_violations

    sign_in(page, live, "admin")
    found = {}
    for name, path in (("editor", "/editor/council_poll"), ("compare", "/models/council_poll/compare")):
        page.goto(live.url + path)
        _until(page, "() => document.querySelector('.djs-shape')")
        violations = serious_violations(page)
        if violations:
            found[name] = violations
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)

"""Deploy checks compile every cell of the decision tables that business rule tasks call, as
SpiffWorkflow's DMNEngine builds and evaluates them in the sandbox, so that a broken cell is refused
at deploy instead of failing when an instance reaches the task."""

from __future__ import annotations

import io
import re
from typing import Any
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import func, select

from app.db.models import AuditRecord, ProcessFile, ProcessModel, ProcessVersion
from app.engine import runner, snapshots
from app.engine.errors import BundleInvalid, Problem
from app.engine.parser import parse_bundle
from app.engine.sandbox_pool import Limits, shared_pool
from app.engine.scripting import make_script_engine
from app.engine.serializer import dump_specs, load_specs
from tests.api.conftest import Api, expect_error
from tests.conftest import FIXTURES, make_user

DMN_DIR = FIXTURES / "dmn"  # a folder of its own: deployments from FIXTURES take every *.dmn in it
BPMN = "appeal_decision.bpmn"
DMN = "appeal_decision.dmn"
DECISION = "decision 'approve_appeal'"

# Lines of the cells in the DMN fixture (edits below keep every cell on its line).
LINES = {
    "InputExpression_Days": 7,
    "InputExpression_Kind": 12,
    "Rule_Quick_Days": 19,
    "Rule_Quick_Kind": 22,
    "Rule_Quick_Approved": 25,
    "Rule_Quick_Reason": 28,
    "Rule_Standard_Days": 33,
    "Rule_Standard_Kind": 36,
    "Rule_Standard_Reason": 42,
    "Rule_Other_Kind": 50,
}


def bundle(**cells: str) -> dict[str, bytes]:
    """The fixture files, with the text of the cells named by element id replaced."""
    files = {name: (DMN_DIR / name).read_bytes() for name in (BPMN, DMN)}
    dmn = files[DMN].decode()
    for element_id, text in cells.items():
        pattern = re.compile(rf'(id="{element_id}"[^>]*>\s*<text>)[^<]*(</text>)')
        dmn, count = pattern.subn(lambda m, t=text: m.group(1) + escape(t) + m.group(2), dmn)
        assert count == 1, element_id
    files[DMN] = dmn.encode()
    return files


def problems_of(files: dict[str, bytes]) -> list[Problem]:
    with pytest.raises(BundleInvalid) as raised:
        parse_bundle(files)
    return raised.value.problems


def decide(files: dict[str, bytes], data: dict[str, Any]) -> dict[str, Any]:
    """Deploy-parse the files, then run an instance the way the server does (stored specs, sandbox)."""
    bundle_ = parse_bundle(files)
    specs = load_specs(dump_specs(bundle_.spec, bundle_.subprocess_specs))
    workflow = runner.create(specs, data, make_script_engine(shared_pool(Limits())))
    runner.advance(workflow)
    assert workflow.is_completed()
    return snapshots.current_data(workflow)


# --- a valid table deploys and evaluates ---------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "approved", "reason"),
    [
        ({"days": 2, "kind": "any"}, True, "quick"),  # '< 5', then a '-' wildcard
        ({"days": 7, "kind": "standard"}, True, "standard, 7 days"),  # '5 <= ? <= 10' and a value
        ({"days": 7, "kind": "other"}, False, "other"),  # '-' and an empty cell match anything
        ({"days": 30, "kind": "standard"}, False, "other"),
    ],
)
def test_a_valid_decision_deploys_and_the_business_rule_task_evaluates(
    data: dict[str, Any], approved: bool, reason: str
) -> None:
    assert decide(bundle(), data) == {**data, "approved": approved, "reason": reason}


def test_an_operator_entry_needs_a_space_where_the_engine_would_glue_it_to_the_input() -> None:
    # DMNEngine appends an operator entry to the input expression as it stands: 'days' followed by
    # 'in [1, 2]' is 'daysin [1, 2]', which compiles but names no variable.
    [problem] = problems_of(bundle(Rule_Quick_Days="in [1, 2]"))
    assert (problem.file, problem.line, problem.element_id) == (DMN, 19, "Rule_Quick_Days")
    assert problem.message.startswith(f"{DECISION}, rule 1, input 'days': ")
    assert "'daysin [1, 2]'" in problem.message

    accepted = bundle(Rule_Quick_Days=" in [1, 2]")
    assert decide(accepted, {"days": 2, "kind": "any"})["reason"] == "quick"
    assert decide(accepted, {"days": 3, "kind": "any"})["reason"] == "other"


# --- bad cells are located and named --------------------------------------------------------------


@pytest.mark.parametrize(
    ("element_id", "text", "where", "reason"),
    [
        # FEEL ranges are not understood: neither a Python value nor an operator and operand.
        ("Rule_Quick_Days", "[1..5]", "rule 1, input 'days'", "neither a value"),
        ("Rule_Standard_Kind", '"standard', "rule 2, input 'kind'", "SyntaxError"),
        ("Rule_Standard_Days", "5 <= ? <=", "rule 2, input 'days'", "SyntaxError"),
        # Blanks before an entry make it an indented block to the engine's parser.
        ("Rule_Quick_Days", "  2", "rule 1, input 'days'", "neither a value"),
    ],
)
def test_a_bad_input_entry_is_reported(element_id: str, text: str, where: str, reason: str) -> None:
    [problem] = problems_of(bundle(**{element_id: text}))
    assert (problem.file, problem.line, problem.element_id) == (DMN, LINES[element_id], element_id)
    assert problem.message.startswith(f"{DECISION}, {where}: ")
    assert reason in problem.message


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('"standard" +', "Malformed Output Expression"),  # the engine's own parser refuses it
        ("reason = 'standard'", "SyntaxError"),  # parses as a statement, fails as an expression
    ],
)
def test_a_bad_output_entry_is_reported(text: str, reason: str) -> None:
    [problem] = problems_of(bundle(Rule_Standard_Reason=text))
    assert (problem.file, problem.line, problem.element_id) == (DMN, 42, "Rule_Standard_Reason")
    assert problem.message.startswith(f"{DECISION}, rule 2, output 'reason': ")
    assert reason in problem.message


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("days +", "SyntaxError"),
        # Leading blanks make the engine's own parse of the input expression fail.
        ("  days", "IndentationError"),
    ],
)
def test_a_bad_input_expression_is_reported_once_for_its_column(text: str, reason: str) -> None:
    [problem] = problems_of(bundle(InputExpression_Days=text))
    assert (problem.file, problem.line, problem.element_id) == (DMN, 7, "InputExpression_Days")
    assert problem.message.startswith(f"{DECISION}, input 'days': ")
    assert reason in problem.message


@pytest.mark.parametrize(
    ("element_id", "text", "where"),
    [
        ("Rule_Quick_Days", "__import__('os')", "rule 1, input 'days'"),
        ("Rule_Standard_Days", "().__class__.__base__ <= ?", "rule 2, input 'days'"),
        ("Rule_Quick_Reason", "().__class__.__base__.__subclasses__()", "rule 1, output 'reason'"),
        ("InputExpression_Kind", "kind.__class__", "input 'kind'"),
    ],
)
def test_a_cell_the_sandbox_forbids_is_reported(element_id: str, text: str, where: str) -> None:
    [problem] = problems_of(bundle(**{element_id: text}))
    assert (problem.file, problem.line, problem.element_id) == (DMN, LINES[element_id], element_id)
    assert problem.message.startswith(f"{DECISION}, {where}: ")
    assert 'starts with "_"' in problem.message


def test_every_bad_cell_is_reported_at_once() -> None:
    files = bundle(
        InputExpression_Kind="kind +",
        Rule_Quick_Days="[1..5]",
        Rule_Quick_Reason="__import__('os')",
        Rule_Standard_Reason='"standard" +',  # where the engine's own parser would stop
        Rule_Other_Kind="== == 'a'",
    )
    problems = problems_of(files)
    assert [(p.file, p.line, p.element_id) for p in problems] == [
        (DMN, 12, "InputExpression_Kind"),
        (DMN, 19, "Rule_Quick_Days"),
        (DMN, 28, "Rule_Quick_Reason"),
        (DMN, 42, "Rule_Standard_Reason"),
        (DMN, 50, "Rule_Other_Kind"),
    ]
    assert [p.message.split(": ", 1)[0] for p in problems] == [
        f"{DECISION}, input 'kind'",
        f"{DECISION}, rule 1, input 'days'",
        f"{DECISION}, rule 1, output 'reason'",
        f"{DECISION}, rule 2, output 'reason'",
        # Checked against a stand-in for the broken input expression of its column.
        f"{DECISION}, rule 3, input 'kind'",
    ]


def test_bad_cells_are_reported_with_the_other_problems_of_the_bundle() -> None:
    files = bundle(Rule_Quick_Days="[1..5]")
    files[BPMN] = files[BPMN].replace(
        b"<spiffworkflow:calledDecisionId>",
        b"<spiffworkflow:preScript>x = </spiffworkflow:preScript><spiffworkflow:calledDecisionId>",
    )
    problems = problems_of(files)
    assert [(p.file, p.element_id) for p in problems] == [(DMN, "Rule_Quick_Days"), (BPMN, "Task_Decide")]
    assert problems[1].message.startswith("prescript: ")


def test_an_entry_without_id_is_reported_once() -> None:
    files = bundle()
    files[DMN] = files[DMN].replace(b'<inputEntry id="Rule_Standard_Kind">', b"<inputEntry>")
    # The engine's parser fails on the missing id too, reporting it on the calling task.
    assert problems_of(files) == [
        Problem(
            DMN,
            36,
            "approve_appeal",
            f"{DECISION}, rule 2, input 'kind': the element has no id, which the engine requires",
        )
    ]


# --- through the REST API -------------------------------------------------------------------------


def _stored_counts(ctx) -> tuple[int, ...]:
    with ctx.uow() as uow:
        return tuple(
            uow.session.scalar(select(func.count()).select_from(model))
            for model in (ProcessModel, ProcessVersion, ProcessFile, AuditRecord)
        )


def test_deploying_a_bad_decision_table_is_422_with_located_cells_and_stores_nothing(client, ctx) -> None:
    api = Api(client, ctx)
    make_user(ctx, "ana", ["analysts"])
    files = bundle(Rule_Quick_Days="[1..5]", Rule_Standard_Reason="reason = 'standard'")
    before = _stored_counts(ctx)
    response = api.post(
        "/process-models",
        user="ana",
        data={"files": [(io.BytesIO(content), name) for name, content in files.items()]},
        content_type="multipart/form-data",
    )
    body = expect_error(response, 422, "invalid_input")
    assert [(d["file"], d["line"], d["element_id"]) for d in body["details"]] == [
        (DMN, 19, "Rule_Quick_Days"),
        (DMN, 42, "Rule_Standard_Reason"),
    ]
    assert body["details"][0]["message"].startswith(f"{DECISION}, rule 1, input 'days': ")
    assert _stored_counts(ctx) == before
    assert api.get("/process-models", user="ana").get_json() == {"process_models": []}

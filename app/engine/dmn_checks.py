"""Deployment checks of DMN decision tables: every cell compiled as the engine will evaluate it.

Without them a broken cell surfaces only when an instance reaches the business rule task. The
cells are read with the engine's own DMN parser helpers and turned into expressions by
DMNEngine itself (with a script engine that records instead of evaluating), so what is accepted
here is what runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.parser.DMNParser import DMNParser
from SpiffWorkflow.dmn.specs.model import DecisionTable, Input, InputEntry, Output, OutputEntry
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from .errors import Problem
from .scripting import check_expression

# Stands for the input value where a column's own expression cannot be used: without one the
# engine reads the task data named by the column's label, and a broken one is reported once.
_INPUT_STAND_IN = "value"


class _RecordingScriptEngine(PythonScriptEngine):
    """Collects the expressions DMNEngine builds for a cell instead of evaluating them.

    `validate` stays the inherited one (ast.parse): the sandboxed engine does not override it."""

    def __init__(self) -> None:
        super().__init__()
        self.expressions: list[str] = []

    def evaluate(self, task: Any, expression: str, external_context: dict[str, Any] | None = None) -> bool:
        self.expressions.append(expression)
        return True


def _syntax_reason(exc: SyntaxError) -> str:
    return f"{type(exc).__name__}: {exc.msg}"


def _unreadable(exc: Exception) -> str:
    if isinstance(exc, KeyError) and exc.args == ("id",):
        return "the element has no id, which the engine requires"
    if isinstance(exc, IndexError):
        return "the rule has more entries than the table has columns"
    return f"the engine cannot read this element ({exc!r})"


def _column_name(column: Input | Output | None, kind: str, index: int) -> str:
    if column is None:
        return f"{kind} {index + 1}"
    if isinstance(column, Output):
        name = column.name or column.label or column.id  # the name is the variable it sets
    else:
        name = column.label or column.name or column.expression or column.id
    return f"{kind} '{name}'"


def _input_expression_error(expression: str) -> str | None:
    try:
        # DMNEngine validates the input expression before it joins an entry to it.
        _RecordingScriptEngine().validate(expression)
    except SyntaxError as exc:
        return _syntax_reason(exc)
    # Entries using '?' have it evaluated on its own.
    return check_expression(expression)


def _input_entry_error(input_expression: str, own: bool, entry: str) -> str | None:
    """Why the engine would fail to match `entry` against the column, or None.

    DMNEngine.evaluate itself builds the expressions (the '?' placeholder, '==' or an operator
    joined to the input expression), so the check cannot drift from what runs."""
    recorder = _RecordingScriptEngine()
    task = SimpleNamespace(workflow=SimpleNamespace(script_engine=recorder), data={})
    try:
        DMNEngine(None).evaluate(input_expression, entry, task)
    except SyntaxError as exc:
        return f"{entry!r} is neither a value nor a comparison ({_syntax_reason(exc)})"
    for expression in recorder.expressions:
        error = check_expression(expression)
        if error:
            return error
    # The engine appends an operator entry without a space: 'days' and 'in [1, 2]' become the
    # name 'daysin', which compiles and fails only when the rule is evaluated.
    joined = input_expression + entry
    glued = _is_word_char(input_expression[-1:]) and _is_word_char(entry[:1])
    if own and glued and recorder.expressions == [joined]:
        return f"the engine joins the input expression and this entry into {joined!r}: start it with a space"
    return None


def _is_word_char(char: str) -> bool:
    return bool(char) and (char.isalnum() or char == "_")


def _check_rule(
    dmn_parser: DMNParser,
    decision_id: str,
    table: DecisionTable,
    input_expressions: list[tuple[str, bool]],
    rule_element: etree._Element,
    number: int,
) -> Iterator[Problem]:
    file = dmn_parser.filename
    where = f"decision '{decision_id}', rule {number}"
    if rule_element.get("id") is None:
        yield Problem(file, rule_element.sourceline, decision_id, f"{where}: {_unreadable(KeyError('id'))}")
    counters = {InputEntry: 0, OutputEntry: 0}
    for child in rule_element:
        if not isinstance(child.tag, str):
            continue  # comments: the engine's parser refuses them when the process is built
        # Same tag tests as DMNParser._parse_rule.
        if child.tag.endswith("inputEntry"):
            cls, columns, kind = InputEntry, table.inputs, "input"
        elif child.tag.endswith("outputEntry"):
            cls, columns, kind = OutputEntry, table.outputs, "output"
        else:
            continue
        index = counters[cls]
        counters[cls] += 1
        column = columns[index] if index < len(columns) else None
        message = f"{where}, {_column_name(column, kind, index)}"
        element_id = child.get("id") or decision_id
        try:
            # The engine's own reading of a cell: its text, and '-' turned into a wildcard.
            entry = dmn_parser._parse_input_output_element(table, child, cls, index)
        except ValidationException as exc:
            # The engine's parser compiles output entries too, but stops at the first bad one.
            yield Problem(file, child.sourceline, element_id, f"{message}: {str(exc.args[0]).strip()}")
            continue
        except Exception as exc:
            yield Problem(file, child.sourceline, element_id, f"{message}: {_unreadable(exc)}")
            continue
        if isinstance(entry, InputEntry):
            input_expression, own = input_expressions[index]
            for lhs in entry.lhs:
                if lhs is None:
                    continue  # '-' or empty: DMNEngine matches without evaluating anything
                error = _input_entry_error(input_expression, own, lhs)
                if error:
                    yield Problem(file, child.sourceline, element_id, f"{message}: {error}")
        elif entry.text:
            # Rule.output_as_dict evaluates the text as it stands and skips an empty one.
            error = check_expression(entry.text)
            if error:
                yield Problem(file, child.sourceline, element_id, f"{message}: {error}")


def _check_decision_table(
    dmn_parser: DMNParser, decision_id: str, table_element: etree._Element
) -> Iterator[Problem]:
    file = dmn_parser.filename
    table = DecisionTable(table_element.get("id"), table_element.get("name", ""), "UNIQUE")
    # Per column: the expression entries are matched against, and whether it is the column's own.
    input_expressions: list[tuple[str, bool]] = []
    rule_number = 0
    for element in table_element:
        tag = element.tag
        if not isinstance(tag, str):
            continue  # comments: the engine's parser refuses them when the process is built
        # Same tag tests, in the same order, as DMNParser._parse_inputs_outputs.
        if tag.endswith("input") or tag.endswith("output"):
            kind = "input" if tag.endswith("input") else "output"
            try:
                if kind == "input":
                    column: Input | Output = dmn_parser._parse_input(element)
                else:
                    column = dmn_parser._parse_output(element)
            except Exception as exc:
                index = len(table.inputs if kind == "input" else table.outputs)
                message = f"decision '{decision_id}', {_column_name(None, kind, index)}: {_unreadable(exc)}"
                yield Problem(file, element.sourceline, decision_id, message)
                return  # the cells of later columns would be matched to the wrong columns
            if isinstance(column, Output):
                table.outputs.append(column)
                continue
            table.inputs.append(column)
            own = bool(column.expression)
            if own:
                error = _input_expression_error(column.expression)
                if error:
                    found = element.xpath("dmn:inputExpression", namespaces=dmn_parser.nsmap)
                    at = found[0] if found else element
                    name = _column_name(column, "input", len(table.inputs) - 1)
                    element_id = at.get("id") or column.id or decision_id
                    message = f"decision '{decision_id}', {name}: {error}"
                    yield Problem(file, at.sourceline, element_id, message)
                    own = False
            input_expressions.append((column.expression if own else _INPUT_STAND_IN, own))
        elif tag.endswith("rule"):
            rule_number += 1
            yield from _check_rule(dmn_parser, decision_id, table, input_expressions, element, rule_number)


def check_decisions(parser: SpiffBpmnParser) -> dict[str, list[Problem]]:
    """Compile every cell of the decision tables that business rule tasks call, as DMNEngine
    will evaluate them; otherwise a broken cell surfaces only when an instance reaches the task.
    Returns the problems of each decision that has any."""
    found: dict[str, list[Problem]] = {}
    for decision_id in sorted(ref for ref in parser.get_dmn_dependencies() if ref in parser.dmn_parsers):
        dmn_parser = parser.dmn_parsers[decision_id]
        decisions = dmn_parser.xpath(".//dmn:decision")
        if len(decisions) != 1:
            continue  # the engine's parser refuses it when the process is built
        for table_element in decisions[0].xpath("dmn:decisionTable", namespaces=dmn_parser.nsmap):
            problems = list(_check_decision_table(dmn_parser, decision_id, table_element))
            if problems:
                found.setdefault(decision_id, []).extend(problems)
    return found

"""Form rules: what the deploy check says of a bad rule, word for word, and how broken rules
become field errors (engine/form_rules.py)."""

from __future__ import annotations

import dataclasses

import pytest

from app.engine.form_rules import MAX_RULES, FormRule, broken_rules, rule_problems, rules_of
from app.engine.sandbox_pool import Limits, shared_pool
from app.engine.scripting import SandboxEnvironment

MESSAGE = {"kk": "Қате {{ cap }}", "ru": "Ошибка {{ cap }}", "en": "Wrong {{ cap }}"}
SCHEMA = {"properties": {"amount": {"type": "integer"}, "person": {"type": "object"}}}


def rule(**changes: object) -> dict:
    return {"field": "amount", "check": "amount is None or amount <= cap", "message": MESSAGE, **changes}


def problems(rules: object, schema: dict | None = SCHEMA) -> list[str]:
    return list(rule_problems({"x-rules": rules}, schema))


def test_a_valid_set_of_rules_has_no_problem() -> None:
    assert problems([rule(), rule(field="person.name", check="person is not None")]) == []
    assert list(rule_problems({}, SCHEMA)) == []  # no rules at all


def test_each_problem_is_named_with_its_rule() -> None:
    assert problems("amount > 0") == ["'x-rules' must be a list of rules"]
    assert problems(["amount > 0"]) == ["x-rules[0]: a rule must be an object with field, check and message"]
    assert problems([rule(), rule(when="x")]) == ["x-rules[1]: unknown key(s) when"]
    assert problems([rule(when="x", also=1)]) == ["x-rules[0]: unknown key(s) also, when"]
    assert problems([rule(field="2nd")]) == [
        "x-rules[0]: 'field' must name a form field (letters, digits, '_', dotted for nested)"
    ]
    assert problems([rule(field="missing")]) == ["x-rules[0]: field 'missing' is not a property of the form"]
    assert problems([rule(field="person.name")]) == []  # a nested field: its first part is the property
    assert problems([rule(check="  ")]) == ["x-rules[0]: 'check' must be an expression"]
    assert problems([rule(check=5)]) == ["x-rules[0]: 'check' must be an expression"]
    [compiled] = problems([rule(check="amount +")])
    assert compiled.startswith("x-rules[0]: check: ")
    assert problems([rule(message={"kk": "a", "ru": "b"})]) == [
        "x-rules[0]: 'message' must give a text in each of kk, ru, en"
    ]
    assert problems([rule(field=None)]) == [
        "x-rules[0]: 'field' must name a form field (letters, digits, '_', dotted for nested)"
    ]
    # Every rule is checked, not only up to the first bad one.
    assert problems(["bad", rule(field="missing")]) == [
        "x-rules[0]: a rule must be an object with field, check and message",
        "x-rules[1]: field 'missing' is not a property of the form",
    ]


def test_at_most_fifty_rules() -> None:
    assert problems([rule()] * MAX_RULES) == []
    assert problems([rule()] * (MAX_RULES + 1)) == [f"'x-rules' holds {MAX_RULES + 1} rules; at most 50"]


def test_rules_are_values() -> None:
    [parsed] = rules_of({"x-rules": [rule()]})
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.field = "other"  # type: ignore[misc]
    assert parsed.path == "$.amount"


def test_broken_rules_become_field_errors_with_their_texts_filled_in() -> None:
    environment = SandboxEnvironment(shared_pool(Limits()), {})
    rules = [
        FormRule("amount", "amount <= cap", MESSAGE),
        FormRule("amount", "amount > 0", {"kk": "x", "ru": "y", "en": "second rule of the same field"}),
        FormRule(
            "note", "note is None or len(note) < 3", {"kk": "к", "ru": "р", "en": "short {{ missing }}."}
        ),
    ]
    errors = broken_rules(environment, rules, {"amount": 7, "cap": 5, "note": "long"})
    assert errors == [
        {
            "field": "$.amount",
            "message": "Wrong 5",
            "messages": {"kk": "Қате 5", "ru": "Ошибка 5", "en": "Wrong 5"},
        },
        {"field": "$.note", "message": "short .", "messages": {"kk": "к", "ru": "р", "en": "short ."}},
    ]
    # One error a field: the first rule that breaks; a rule that cannot run says why.
    [failed] = broken_rules(environment, rules[:1], {"amount": 7})
    assert failed["reason"].startswith("the rule could not be checked: ") and "cap" in failed["reason"]
    assert broken_rules(environment, rules, {"amount": 3, "cap": 5, "note": None}) == []

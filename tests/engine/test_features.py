"""What a process can wait for decides which side tables saving one of its instances touches."""

from __future__ import annotations

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow

from app.engine.features import SpecFeatures, spec_features
from app.engine.parser import parse_bundle
from tests.conftest import APPROVAL, read_fixture


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (APPROVAL, SpecFeatures(human_tasks=True, timers=False, messages=False)),
        (("payment_wait.bpmn",), SpecFeatures(human_tasks=False, timers=False, messages=True)),
        (("timer_intermediate.bpmn",), SpecFeatures(human_tasks=False, timers=True, messages=False)),
        (("timer_boundary_interrupting.bpmn",), SpecFeatures(human_tasks=True, timers=True, messages=False)),
    ],
)
def test_features_of_a_process(files: tuple[str, ...], expected: SpecFeatures) -> None:
    bundle = parse_bundle(read_fixture(*files))
    workflow = BpmnWorkflow(bundle.spec, bundle.subprocess_specs)
    assert spec_features(workflow) == expected
    assert spec_features(BpmnWorkflow(bundle.spec, bundle.subprocess_specs)) is spec_features(workflow)

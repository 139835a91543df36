"""Workflow <-> JSON, with the spec stored once per deployed version, not in every instance."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

SERIALIZER_VERSION_KEY = BpmnWorkflowSerializer.VERSION_KEY


@dataclass(frozen=True)
class LoadedSpecs:
    """A version's specs, restored once and shared by every instance of that version."""

    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Leaves the spec out of an instance's state; `restore` puts a shared one back."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def restore(self, dct: dict[str, Any], specs: LoadedSpecs) -> BpmnWorkflow:
        # Mirrors BpmnWorkflowConverter.from_dict, with the specs supplied instead of rebuilt.
        workflow = BpmnWorkflow(specs.spec, specs.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_REGISTRY = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
REGISTRY = _REGISTRY  # SpiffWorkflow's diff tools compare specs through it
# Registering after configure() replaces the stock workflow converter with the spec-free one.
_WORKFLOW_CONVERTER = SpecFreeWorkflowConverter(BpmnWorkflow, _REGISTRY)
_SERIALIZER = BpmnWorkflowSerializer(_REGISTRY)
_ENCODER = create_encoder(_REGISTRY)


def dump_specs(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> str:
    """The specs of one version as JSON (stored once in the version row)."""
    return json.dumps(
        {
            "spec": _REGISTRY.convert(spec),
            "subprocess_specs": {name: _REGISTRY.convert(s) for name, s in subprocess_specs.items()},
        },
        cls=_ENCODER,
        sort_keys=True,
    )


def load_specs(specs_json: str) -> LoadedSpecs:
    dct = json.loads(specs_json)
    return LoadedSpecs(
        spec=_REGISTRY.restore(dct["spec"]),
        subprocess_specs={name: _REGISTRY.restore(s) for name, s in dct["subprocess_specs"].items()},
    )


def dump_state(workflow: BpmnWorkflow) -> str:
    """An instance's state as JSON, without its spec."""
    _REGISTRY._encoder_mode = True
    try:
        dct = _REGISTRY.convert(workflow)
    finally:
        _REGISTRY._encoder_mode = False
    dct[SERIALIZER_VERSION_KEY] = _SERIALIZER.VERSION
    return json.dumps(dct, cls=_ENCODER)


def load_state(state_json: str, specs: LoadedSpecs) -> BpmnWorkflow:
    dct = json.loads(state_json)
    version = dct.pop(SERIALIZER_VERSION_KEY, None)
    if version != _SERIALIZER.VERSION:
        raise ValueError(f"state was saved by serializer version {version}, expected {_SERIALIZER.VERSION}")
    return _WORKFLOW_CONVERTER.restore(dct, specs)

"""Moving a running instance's workflow to another version of its process, with SpiffWorkflow's own
diff tools (`SpiffWorkflow.bpmn.util.diff`).

The library aligns the old specs with the new by BPMN id (then by structure). An instance can move
when every step it has (done, open or predicted) still exists in the new version, and so does every
sub-process it is in: a step that is gone cannot be stored any more, since the stored state names
each step's spec. Steps the new version adds before the instance's position are not run; those
after it are run when the instance gets there. Open and predicted steps are re-predicted by the
library; an open user task keeps its id, so its inbox row, claim and data stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from . import runner
from .serializer import REGISTRY, LoadedSpecs

OPEN = TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR


@dataclass(frozen=True)
class MigrationPlan:
    """What moving one instance to a version means for it."""

    movable: bool
    reasons: tuple[str, ...]  # why it cannot move
    removed: tuple[str, ...]  # its steps the new version lacks
    changed: tuple[str, ...]  # its open steps the new version defines differently
    added: tuple[str, ...]  # steps the new version adds


def _element(spec: Any) -> str | None:
    return getattr(spec, "bpmn_id", None)


def _ids(specs: Any) -> tuple[str, ...]:
    return tuple(sorted({e for e in (_element(s) for s in specs) if e}))


def _all_ids(spec: Any, subprocess_specs: dict[str, Any]) -> tuple[str, ...]:
    return _ids(t for s in (spec, *subprocess_specs.values()) for t in s.task_specs.values())


def plan(workflow: BpmnWorkflow, new: LoadedSpecs) -> MigrationPlan:
    top, sub_diffs = diff_workflow(REGISTRY, workflow, new.spec, new.subprocess_specs)
    removed = [t.task_spec for t in top.removed]
    changed = [t.task_spec for t in top.changed if t.state & OPEN]
    reasons = []
    for sub_id, diff in sub_diffs.items():
        name = workflow.subprocesses[sub_id].spec.name
        if diff is None:
            reasons.append(f"the new version has no sub-process '{name}', which this instance is in")
            continue
        removed += [t.task_spec for t in diff.removed]
        changed += [t.task_spec for t in diff.changed if t.state & OPEN]
    gone = _ids(removed)
    if gone:
        reasons.append(f"the new version lacks steps this instance has: {', '.join(gone)}")
    added = tuple(
        sorted(
            set(_all_ids(new.spec, new.subprocess_specs))
            - set(_all_ids(workflow.spec, workflow.subprocess_specs))
        )
    )
    return MigrationPlan(not reasons, tuple(reasons), gone, _ids(changed), added)


def migrate(workflow: BpmnWorkflow, new: LoadedSpecs) -> BpmnWorkflow:
    """Move the workflow onto the new specs in place (check `plan` first) and advance it."""
    top, sub_diffs = diff_workflow(REGISTRY, workflow, new.spec, new.subprocess_specs)
    for sub_id, diff in sub_diffs.items():
        sub = workflow.subprocesses[sub_id]
        migrate_workflow(diff, sub, new.subprocess_specs[sub.spec.name])
    migrate_workflow(top, workflow, new.spec)
    workflow.subprocess_specs = new.subprocess_specs
    if workflow.last_task is None:
        # The library drops it when it re-predicts the task that was last: the instance's data is
        # read from the most recently completed task.
        done = workflow.get_tasks(state=TaskState.COMPLETED)
        workflow.last_task = max(done, key=lambda t: t.last_state_change) if done else None
    runner.advance(workflow)
    return workflow

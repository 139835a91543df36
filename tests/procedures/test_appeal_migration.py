"""An appeal under consideration moves to a new version of the procedure: its open task (inside
the consideration sub-process) keeps its id and executor, its deadline timers stay, and it goes on
to the end on the new version; a renamed step is mapped by its place in the flow."""

from pathlib import Path

from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from app.services.running import migration
from tests.procedures.test_appeal import SIGNED, consider_and_answer, register

ROOT = Path(__file__).resolve().parents[2]


def _appeal_bundle(change) -> dict[str, bytes]:
    bundle = dict(dict(deployments.bundles_in_folders(ROOT / "bpmn", ROOT / "forms"))["appeal"])
    for name in ("appeal.bpmn", "appeal.translations.json"):
        bundle[name] = change(bundle[name].decode()).encode()
    return bundle


def test_an_appeal_under_consideration_moves_with_its_task_and_timers() -> None:
    with register(SIGNED) as h:
        h.complete("Task_AssignExecutor", {"executor": "a.serikova"})
        [before] = h.ready("Task_ConsiderAppeal")
        executor = [t["assignee"] for t in h.instance()["tasks"] if t["id"] == before.id]
        timers = h.waiting_timers()
        assert timers  # the deadline reminder and the overdue escalation
        documented = _appeal_bundle(lambda text: text.replace("Modelling choices", "Modelling choices (v2)"))
        version = deployments.deploy(h.ctx, SYSTEM, documented).version
        preview = migration.preview(h.ctx, SYSTEM, h.instance_id, version)
        assert preview["movable"] and preview["removed"] == []
        moved = migration.migrate_instance(h.ctx, SYSTEM, h.instance_id, version)
        assert moved["version"] == version
        [after] = h.ready("Task_ConsiderAppeal")
        assert after.id == before.id
        assert [t["assignee"] for t in h.instance()["tasks"] if t["id"] == after.id] == executor
        assert h.waiting_timers() == timers
        consider_and_answer(h, "2026-03-10T11:00:00+05:00")
        assert h.completed


def test_a_renamed_step_is_mapped_by_its_place_in_the_flow() -> None:
    # SpiffWorkflow aligns a step whose id changed by its inputs and outputs: the appeal moves,
    # and the task it waits at is the renamed one, with the same id.
    with register(SIGNED) as h:
        [waiting] = h.ready("Task_AssignExecutor")
        renamed = _appeal_bundle(lambda text: text.replace("Task_AssignExecutor", "Task_PickExecutor"))
        version = deployments.deploy(h.ctx, SYSTEM, renamed).version
        preview = migration.preview(h.ctx, SYSTEM, h.instance_id, version)
        assert preview["movable"] and preview["removed"] == [] and "Task_PickExecutor" in preview["added"]
        migration.migrate_instance(h.ctx, SYSTEM, h.instance_id, version)
        [moved] = h.ready("Task_PickExecutor")
        assert moved.id == waiting.id
        h.complete("Task_PickExecutor", {"executor": "a.serikova"})  # on under its new name
        assert h.ready("Task_ConsiderAppeal")

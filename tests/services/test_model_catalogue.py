"""The analysts' view of models: the list with running instances, versions with comments, a
version's files as a zip, and what changed between two versions."""

from __future__ import annotations

import io
import zipfile

import pytest

from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.modelling import catalogue, deployments
from app.services.modelling.deployments import EditedFrom
from app.services.running import instances
from tests.conftest import APPROVAL, make_user, read_fixture


@pytest.fixture
def ana(ctx):
    make_user(ctx, "rita", ["reviewers"])
    return make_user(ctx, "ana", ["analysts"])


def _second_version(ctx, ana) -> dict[str, bytes]:
    files = read_fixture(*APPROVAL)
    changed = (
        files["approval.bpmn"]
        .replace(b'name="Review the request"', b'name="Review the petition"')
        .replace(b"ratio = 100 // divisor", b"ratio = 100 // divisor\nchecked = True")
        .replace(b'value="Test regulation No. 1"', b'value="Test regulation No. 2"')
    )
    files["approval.bpmn"] = changed
    deployments.deploy(ctx, ana, files, comment="The 2024 wording", edited_from=EditedFrom(1))
    return files


def test_models_list_their_newest_version_and_running_instances(ctx, ana):
    deployments.deploy(ctx, ana, read_fixture(*APPROVAL), comment="First")
    instances.start_instance(ctx, ana, "approval", {"subject": "A", "divisor": 2})
    _second_version(ctx, ana)
    instances.start_instance(ctx, ana, "approval", {"subject": "B", "divisor": 2})
    instances.start_instance(ctx, ana, "approval", {"subject": "C", "divisor": 2})
    [model] = catalogue.list_models(ctx, ana)
    assert model["newest"]["version"] == 2 and model["newest"]["comment"] == "The 2024 wording"
    assert model["newest"]["legal_basis"] == "Test regulation No. 2"
    assert model["running"] == {1: 1, 2: 2}
    assert catalogue.list_models(ctx, ana, "APPRO") == [model] and catalogue.list_models(ctx, ana, "x") == []
    detail = catalogue.model_detail(ctx, ana, "approval")
    assert [(v["version"], v["running"], v["comment"]) for v in detail["versions"]] == [
        (2, 2, "The 2024 wording"),
        (1, 1, "First"),
    ]
    with pytest.raises(Forbidden):
        catalogue.list_models(ctx, make_user(ctx, "otto", ["others"]))


def test_a_version_downloads_as_a_zip_of_its_files(ctx, ana):
    deployments.deploy(ctx, ana, read_fixture(*APPROVAL))
    archive = zipfile.ZipFile(io.BytesIO(catalogue.version_zip(ctx, ana, "approval", 1)))
    assert {n: archive.read(n) for n in archive.namelist()} == read_fixture(*APPROVAL)
    with pytest.raises(NotFound):
        catalogue.version_zip(ctx, ana, "approval", 2)


def test_compare_lists_changed_elements_with_old_and_new_values(ctx, ana):
    deployments.deploy(ctx, ana, read_fixture(*APPROVAL))
    _second_version(ctx, ana)
    diff = catalogue.compare(ctx, ana, "approval", 1, 2)
    assert diff["files"] == {"added": [], "removed": [], "changed": [{"name": "approval.bpmn"}]}
    elements = diff["diagrams"]["approval.bpmn"]
    assert elements["added"] == [] and elements["removed"] == []
    changes = {e["id"]: {c["property"]: c for c in e["changes"]} for e in elements["changed"]}
    assert set(changes) == {"approval", "Task_Review", "Script_Record"}
    assert changes["Task_Review"]["name"] == {
        "property": "name",
        "old": "Review the request",
        "new": "Review the petition",
        "diff": None,
    }
    assert changes["Script_Record"]["script"]["diff"][-1] == "+checked = True"
    assert changes["approval"]["property legal_basis_document"]["new"] == "Test regulation No. 2"
    with pytest.raises(InvalidInput):
        catalogue.compare(ctx, ana, "approval", 2, 2)


def test_an_added_task_and_a_new_form_file_are_listed(ctx, ana):
    deployments.deploy(ctx, ana, read_fixture(*APPROVAL))
    files = read_fixture(*APPROVAL)
    files["approval.bpmn"] = files["approval.bpmn"].replace(
        b'<bpmn:endEvent id="EndEvent">',
        b'<bpmn:manualTask id="Task_Archive" name="Archive"/>\n    <bpmn:endEvent id="EndEvent">',
    )
    files["extra.schema.json"] = b'{"type": "object"}'
    deployments.deploy(ctx, ana, files)
    diff = catalogue.compare(ctx, ana, "approval", 1, 2)
    assert diff["files"]["added"] == ["extra.schema.json"]
    assert diff["diagrams"]["approval.bpmn"]["added"] == [
        {"id": "Task_Archive", "type": "manualTask", "name": "Archive"}
    ]
    assert catalogue.compare(ctx, ana, "approval", 2, 1)["diagrams"]["approval.bpmn"]["removed"][0]["id"] == (
        "Task_Archive"
    )


def test_a_deploy_from_an_older_version_than_the_newest_is_refused(ctx, ana):
    deployments.deploy(ctx, ana, read_fixture(*APPROVAL))
    _second_version(ctx, ana)
    files = read_fixture(*APPROVAL)
    files["approval.bpmn"] = files["approval.bpmn"].replace(b"Review the request", b"Review it")
    with pytest.raises(Conflict) as refused:
        deployments.deploy(ctx, ana, files, edited_from=EditedFrom(1))
    assert refused.value.details == [{"model_id": "approval", "newest_version": 2, "base_version": 1}]
    assert "version 2 of 'approval' was deployed after version 1" in refused.value.message
    with pytest.raises(Conflict, match="exists already"):
        deployments.deploy(ctx, ana, files, edited_from=EditedFrom(None))
    assert deployments.deploy(ctx, ana, files, edited_from=EditedFrom(2)).version == 3

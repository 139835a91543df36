from __future__ import annotations

from flask import Response, request

from ..errors import BadRequest
from ..services.modelling import catalogue, checks, deployments
from ..services.running import bulk_migration
from . import bp
from .common import current_actor, services
from .contract import body as request_body
from .contract import query


@bp.get("/process-models")
def list_models():
    current_actor()
    return {"process_models": deployments.list_models(services())}


def _uploaded_files() -> dict[str, bytes]:
    uploads = request.files.getlist("files")
    if not uploads:
        raise BadRequest("send the files as multipart/form-data in the field 'files'")
    files = {}
    for upload in uploads:
        name = upload.filename or ""
        if name in files:
            raise BadRequest(f"file '{name}' was sent twice")
        files[name] = upload.read()
    return files


@bp.post("/process-models")
def deploy_model():
    actor = current_actor()
    files = _uploaded_files()
    comment = request.form.get("comment", "")
    process_id = request.form.get("process_model") or None
    result = deployments.deploy(services(), actor, files, process_id=process_id, comment=comment)
    return result.as_dict(), 201 if result.created else 200


@bp.post("/model-checks")
def validate_model():
    actor = current_actor()
    files = _uploaded_files()
    return checks.validate(services(), actor, files, process_id=request.form.get("process_model") or None)


@bp.get("/process-models/<model_id>")
def get_model(model_id: str):
    current_actor()
    return deployments.get_model(services(), model_id, query("version"))


@bp.get("/process-models/<model_id>/versions")
def list_versions(model_id: str):
    current_actor()
    return {"versions": deployments.list_versions(services(), model_id)}


@bp.get("/process-models/<model_id>/diff")
def diff_versions(model_id: str):
    return catalogue.compare(services(), current_actor(), model_id, query("from"), query("to"))


@bp.get("/process-models/<model_id>/files/<name>")
def get_file(model_id: str, name: str):
    current_actor()
    content = deployments.get_file(services(), model_id, name, query("version"))
    mimetype = "application/json" if name.endswith(".json") else "application/xml"
    return Response(content, mimetype=mimetype)


@bp.post("/process-models/<model_id>/versions/<int:version>/migrate")
def migrate_version(model_id: str, version: int):
    job = bulk_migration.start_job(services(), current_actor(), model_id, version, request_body()["to"])
    return job, 202


@bp.get("/migration-jobs/<int:job_id>")
def get_migration_job(job_id: int):
    return bulk_migration.get_job(services(), current_actor(), job_id)

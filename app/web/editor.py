"""The editor (analysts, administrators): the page, and the JSON calls it makes (validate, draft,
deploy, form preview). The calls carry the session's CSRF token in a header, and their errors are
answered as the REST API answers them (see errors.JSON_CALLS)."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from ..engine import jsontext
from ..errors import BadRequest, Conflict
from ..services.modelling import catalogue, checks, drafts
from ..services.work import forms
from . import bp, editor_texts
from .common import actor, services
from .csrf import csrf_token
from .formgen import build_fields, field_name, parse_form
from .i18n import LANGUAGES
from .messages import field_error_text

NEW_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
                  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="Definitions_{id}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{id}" name="{id}" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="{id}">
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">
        <dc:Bounds x="180" y="160" width="36" height="36"/>
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def _config(state: dict[str, Any], main_file: str) -> dict[str, Any]:
    model_id = state["model_id"]
    current = actor()
    return {
        "model_id": model_id,
        "base_version": state["base_version"],
        "main_file": main_file,
        "files": state["files"],
        "draft": _jsonable(state["draft"]),
        "others_drafts": [_jsonable(d) for d in state["others_drafts"]],
        "groups": state["groups"],
        "processes": state["processes"],
        "lang": current.language,
        "csrf_token": csrf_token(),
        "urls": {
            "validate": url_for("web.editor_validate"),
            "draft": url_for("web.editor_draft", model_id=model_id) if model_id else None,
            "deploy": url_for("web.editor_deploy"),
            "preview": url_for("web.editor_form_preview"),
            "model": url_for("web.model_page", model_id=model_id) if model_id else None,
            "models": url_for("web.models_page"),
        },
        "texts": editor_texts.translated(),
    }


def _jsonable(draft: dict[str, Any] | None) -> dict[str, Any] | None:
    if draft is None:
        return None
    return {**draft, "since": draft["since"].isoformat()}


def _main_file(model_id: str, files: dict[str, str]) -> str:
    diagrams = sorted(name for name in files if name.endswith(".bpmn"))
    preferred = f"{model_id}.bpmn"
    return preferred if preferred in files or not diagrams else diagrams[0]


@bp.get("/editor/new")
def editor_new():
    catalogue.require_analyst(actor())
    model_id = drafts.check_model_id(request.args.get("id") or "new_process")
    state = drafts.editor_state(services(), actor(), None)
    state["files"] = {f"{model_id}.bpmn": NEW_PROCESS.format(id=model_id)}
    return render_template("editor.html", config=_config(state, f"{model_id}.bpmn"), model_id=None)


@bp.get("/editor/<model_id>")
def editor_page(model_id: str):
    state = drafts.editor_state(services(), actor(), model_id)
    return render_template(
        "editor.html", config=_config(state, _main_file(model_id, state["files"])), model_id=model_id
    )


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


def _optional_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**31:
        raise BadRequest(f"'{name}' must be a version number")
    return value


def _process_id(body: dict[str, Any]) -> str | None:
    value = body.get("process_id")
    return drafts.check_model_id(value) if isinstance(value, str) and value else None


@bp.post("/editor/api/validate")
def editor_validate():
    body = _body()
    files = drafts.check_files(body.get("files"))
    encoded = {name: text.encode() for name, text in files.items()}
    return checks.validate(services(), actor(), encoded, process_id=_process_id(body))


@bp.put("/editor/api/drafts/<model_id>")
def editor_draft(model_id: str):
    body = _body()
    return drafts.save_draft(
        services(), actor(), model_id, body.get("files"), _optional_int(body, "base_version")
    )


@bp.delete("/editor/api/drafts/<model_id>")
def editor_discard(model_id: str):
    drafts.discard_draft(services(), actor(), model_id)
    return "", 204


@bp.post("/editor/api/deploy")
def editor_deploy():
    body = _body()
    base_version = _optional_int(body, "base_version")
    try:
        result = drafts.deploy_edited(
            services(),
            actor(),
            body.get("files"),
            base_version=base_version,
            comment=body.get("comment") or "",
            process_id=_process_id(body),
        )
    except Conflict as exc:
        # Where to see what the newer version changed before applying the draft to it.
        for detail in exc.details:
            model_id = detail.get("model_id")
            if model_id and detail.get("newest_version") and base_version:
                detail["compare_url"] = url_for(
                    "web.compare_page",
                    model_id=model_id,
                    to=detail["newest_version"],
                    **{"from": base_version},
                )
        raise
    result["model_url"] = url_for("web.model_page", model_id=result["id"])
    return result, 201 if result["created"] else 200


def _form_values(raw: Any) -> MultiDict[str, str]:
    """What the preview's form holds: {name: value or [values]} or [[name, value], ...]."""
    pairs = raw.items() if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    values: MultiDict[str, str] = MultiDict()
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            continue
        name, value = pair
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, (str, int, float, bool)):
                values.add(str(name), str(item))
    return values


def _json_document(text: Any, name: str) -> dict[str, Any] | None:
    if text in (None, ""):
        return None
    try:
        document = jsontext.loads(text) if isinstance(text, str) else text
    except ValueError as exc:
        raise BadRequest(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise BadRequest(f"{name} must be a JSON object")
    return document


@bp.post("/editor/api/form-preview")
def editor_form_preview():
    """The form as the task page renders it (the same field builder and template), in the language
    asked for; with `submit`, the field errors the server would give for what was typed."""
    catalogue.require_analyst(actor())
    body = _body()
    schema = _json_document(body.get("schema"), "schema") or {"type": "object", "properties": {}}
    ui_schema = _json_document(body.get("ui_schema"), "ui_schema")
    language = body.get("lang") if body.get("lang") in LANGUAGES else actor().language
    timezone = services().settings.timezone
    values = _form_values(body.get("data"))
    errors: list[dict[str, str]] = []
    with force_locale(language):
        try:
            if body.get("submit"):
                data, _uploads = parse_form(schema, ui_schema, values, MultiDict(), timezone)
                errors = [
                    {"field": e["field"], "message": field_error_text(e, language)}
                    for e in forms.preview_errors(services(), schema, data)
                ]
            by_name = {field_name(e["field"]): e["message"] for e in errors}
            fields = build_fields(schema, ui_schema, values, by_name, timezone=timezone)
            html = render_template("_form_preview.html", fields=fields)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadRequest(f"the form cannot be shown: {type(exc).__name__}: {exc}") from None
    return {"html": html, "errors": errors}

"""Analysts' drafts: the editor's unsaved work on a model, kept on the server (one per analyst and
model) so that it survives a reload and a restart, with whose draft is open on the same model."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select

from ...db.models import ModelDraft, ProcessModel
from ...engine.parser import PLAIN_NAMES, file_problems, model_id_of
from ...errors import InvalidInput, NotFound
from .. import audit
from ..context import ServiceContext
from ..people.users import Actor, group_names
from ..uow import UnitOfWork
from . import deployments
from .catalogue import require_analyst
from .deployments import version_row

MAX_FILES = 100
MODEL_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")  # an XML id, as a process id is


def _refuse(field: str, message: str) -> InvalidInput:
    return InvalidInput("the draft was not saved", [{"field": field, "message": message}])


def check_files(files: Any) -> dict[str, str]:
    """The editor's files, {name: text}, within the limits of a deployment's upload."""
    if not isinstance(files, dict) or not files:
        raise _refuse("files", "an object of file names and their texts, not empty")
    if len(files) > MAX_FILES:
        raise _refuse("files", f"at most {MAX_FILES} files")
    for name, text in files.items():
        where = f"files.{name}"
        if not isinstance(text, str):
            raise _refuse(where, "a file's content must be text")
        # The names become those of a version's files and of its zip: no Windows folders either.
        problems = [PLAIN_NAMES] if "\\" in name else file_problems(name, len(text.encode()))
        if problems:
            raise _refuse(where, problems[0])
    return dict(files)


def check_model_id(model_id: str) -> str:
    if not MODEL_ID.match(model_id):
        raise _refuse("model_id", "a model id starts with a letter and holds letters, digits, _ . -")
    return model_id


def _draft(uow: UnitOfWork, model_id: str, username: str) -> ModelDraft | None:
    return uow.session.scalars(
        select(ModelDraft).where(ModelDraft.model_id == model_id, ModelDraft.username == username)
    ).first()


def draft_view(draft: ModelDraft) -> dict[str, Any]:
    return {"by": draft.username, "since": draft.updated_at, "base_version": draft.base_version}


def _store(
    uow: UnitOfWork, actor: Actor, model_id: str, files: dict[str, str], base_version: int | None, now: Any
) -> None:
    draft = _draft(uow, model_id, actor.username)
    if draft is None:
        draft = uow.add(
            ModelDraft(model_id=model_id, username=actor.username, created_at=now, files={}, updated_at=now)
        )
    draft.files, draft.base_version, draft.updated_at = files, base_version, now


def save_draft(
    ctx: ServiceContext, actor: Actor, model_id: str, files: Mapping[str, str], base_version: int | None
) -> dict[str, Any]:
    require_analyst(actor)
    check_model_id(model_id)
    files = check_files(files)
    now = ctx.now()
    with ctx.uow(write=True) as uow:
        _store(uow, actor, model_id, files, base_version, now)
        audit.record(
            uow,
            at=now,
            actor=actor.username,
            action="model.draft_saved",
            details={"model": model_id, "base_version": base_version, "files": sorted(files)},
        )
        uow.commit()
    return {"saved_at": now.isoformat()}


def discard_draft(ctx: ServiceContext, actor: Actor, model_id: str) -> None:
    require_analyst(actor)
    with ctx.uow(write=True) as uow:
        deleted = uow.session.execute(
            delete(ModelDraft).where(ModelDraft.model_id == model_id, ModelDraft.username == actor.username)
        )
        if deleted.rowcount:
            audit.record(
                uow,
                at=ctx.now(),
                actor=actor.username,
                action="model.draft_discarded",
                details={"model": model_id},
            )
        uow.commit()


def editor_state(ctx: ServiceContext, actor: Actor, model_id: str | None) -> dict[str, Any]:
    """What the editor opens with: the analyst's own draft if there is one, else the newest
    version's files; the version it starts from; the other analysts' drafts of the model."""
    require_analyst(actor)
    with ctx.uow() as uow:
        newest = own = None
        others: list[ModelDraft] = []
        if model_id is not None:
            own = _draft(uow, model_id, actor.username)
            if uow.session.get(ProcessModel, model_id) is not None:
                newest = version_row(uow, model_id)
            elif own is None:
                raise NotFound(f"process model '{model_id}' not found")
            others = list(
                uow.session.scalars(
                    select(ModelDraft)
                    .where(ModelDraft.model_id == model_id, ModelDraft.username != actor.username)
                    .order_by(ModelDraft.updated_at.desc())
                )
            )
        if own is not None:
            files = dict(own.files)
            base_version = own.base_version
        elif newest is not None:
            files = {f.name: f.content.decode("utf-8", errors="replace") for f in newest.files}
            base_version = newest.version
        else:
            files, base_version = {}, None
        return {
            "model_id": model_id,
            "files": files,
            "base_version": base_version,
            "draft": draft_view(own) if own is not None else None,
            "others_drafts": [draft_view(d) for d in others],
            "groups": sorted(group_names(uow)),
            "processes": list(uow.session.scalars(select(ProcessModel.id).order_by(ProcessModel.id))),
        }


def deploy_edited(
    ctx: ServiceContext,
    actor: Actor,
    files: Mapping[str, str],
    *,
    base_version: int | None,
    comment: str,
    process_id: str | None = None,
) -> dict[str, Any]:
    """Deploy the editor's files as a new version: a comment is required; a newer version than
    the one the work started from refuses it (409); the analyst's draft goes with it."""
    require_analyst(actor)
    files = check_files(files)
    comment = comment.strip() if isinstance(comment, str) else ""
    if not comment:  # its length is the deploy's to check
        message = "say why this version is deployed"
        raise InvalidInput("the process model was not deployed", [{"field": "comment", "message": message}])
    result = deployments.deploy(
        ctx,
        actor,
        {name: text.encode() for name, text in files.items()},
        process_id=process_id,
        comment=comment,
        edited_from=deployments.EditedFrom(base_version),
    )
    return result.as_dict()


def import_files(ctx: ServiceContext, actor: Actor, files: Mapping[str, bytes]) -> str:
    """Files made elsewhere (Camunda Modeler, bpmn.io...) become the analyst's draft of the model
    they define, a new one or the next version of an existing one, to open in the editor; the id
    of that model."""
    require_analyst(actor)
    texts = {}
    for name, content in files.items():
        try:
            texts[name] = content.decode("utf-8")
        except UnicodeDecodeError:
            raise _refuse(f"files.{name}", "not a UTF-8 text file") from None
    check_files(texts)
    model_id = model_id_of(files)
    if model_id is None:
        message = "no executable process, or several and no collaboration holding them all"
        raise _refuse("files", message)
    now = ctx.now()
    with ctx.uow(write=True) as uow:
        model = uow.session.get(ProcessModel, check_model_id(model_id))
        base_version = model.latest_version if model is not None else None
        _store(uow, actor, model_id, texts, base_version, now)
        audit.record(
            uow,
            at=now,
            actor=actor.username,
            action="model.imported",
            details={"model": model_id, "files": sorted(texts), "base_version": base_version},
        )
        uow.commit()
    return model_id

"""The analysts' view of the deployed models: every model with its newest version and running
instances, a model's versions, a version's files as a zip, and what changed between versions."""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from typing import Any

from sqlalchemy import func, or_, select

from ...db.models import ModelDraft, ProcessInstance, ProcessModel, ProcessVersion
from ...engine.model_diff import diff_files
from ...errors import Forbidden, InvalidInput
from ..context import ServiceContext
from ..people.users import Actor
from ..uow import UnitOfWork
from .deployments import version_row

LIVE = ("running", "suspended", "error")  # instances still on their version


def require_analyst(actor: Actor) -> None:
    if not actor.is_analyst:
        raise Forbidden("only analysts and administrators work on process models")


def _running_by_version(uow: UnitOfWork, model_id: str | None = None) -> dict[int, int]:
    query = (
        select(ProcessInstance.version_id, func.count())
        .where(ProcessInstance.status.in_(LIVE))
        .group_by(ProcessInstance.version_id)
    )
    if model_id is not None:
        query = query.where(ProcessInstance.model_id == model_id)
    return {version_id: count for version_id, count in uow.session.execute(query)}


def _version_summary(version: ProcessVersion, running: dict[int, int]) -> dict[str, Any]:
    return {
        "version": version.version,
        "deployed_by": version.deployed_by,
        "deployed_at": version.deployed_at,
        "comment": version.comment,
        "content_hash": version.content_hash,
        "running": running.get(version.id, 0),
        "legal_basis": version.legal_basis,
        "in_force_from": version.in_force_from,
        "in_force_to": version.in_force_to,
    }


def list_models(ctx: ServiceContext, actor: Actor, search: str = "") -> list[dict[str, Any]]:
    """Every model, newest version first in each, with running instances per version; `search`
    matches the id or the name, ignoring case."""
    require_analyst(actor)
    with ctx.uow() as uow:
        query = select(ProcessModel).order_by(ProcessModel.id)
        if search.strip():
            pattern = f"%{search.strip().lower()}%"
            query = query.where(
                or_(func.lower(ProcessModel.id).like(pattern), func.lower(ProcessModel.name).like(pattern))
            )
        models = uow.session.scalars(query).all()
        running = _running_by_version(uow)
        versions: dict[str, list[ProcessVersion]] = defaultdict(list)
        rows = uow.session.scalars(
            select(ProcessVersion)
            .where(ProcessVersion.model_id.in_([m.id for m in models]))
            .order_by(ProcessVersion.version.desc())
        )
        for version in rows:
            versions[version.model_id].append(version)
        result = []
        for model in models:
            mine = versions.get(model.id) or []
            newest = _version_summary(mine[0], running) if mine else None
            result.append(
                {
                    "id": model.id,
                    "name": model.name,
                    "newest": newest,
                    "running": {v.version: running[v.id] for v in mine if running.get(v.id)},
                }
            )
        return result


def model_detail(ctx: ServiceContext, actor: Actor, model_id: str) -> dict[str, Any]:
    """A model's versions, newest first, and the drafts analysts have of it."""
    require_analyst(actor)
    with ctx.uow() as uow:
        newest = version_row(uow, model_id)
        running = _running_by_version(uow, model_id)
        versions = uow.session.scalars(
            select(ProcessVersion)
            .where(ProcessVersion.model_id == model_id)
            .order_by(ProcessVersion.version.desc())
        )
        drafts = uow.session.scalars(
            select(ModelDraft).where(ModelDraft.model_id == model_id).order_by(ModelDraft.updated_at.desc())
        )
        return {
            "id": model_id,
            "name": newest.model.name,
            "newest_version": newest.version,
            "versions": [_version_summary(v, running) for v in versions],
            "drafts": [{"by": d.username, "since": d.updated_at} for d in drafts],
        }


def version_files(ctx: ServiceContext, actor: Actor, model_id: str, version: int | None) -> dict[str, bytes]:
    require_analyst(actor)
    with ctx.uow() as uow:
        return {f.name: f.content for f in version_row(uow, model_id, version).files}


def version_zip(ctx: ServiceContext, actor: Actor, model_id: str, version: int) -> bytes:
    """A version's files in one zip, named as deployed (deployable again as they are)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in sorted(version_files(ctx, actor, model_id, version).items()):
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), content)
    return buffer.getvalue()


def _compared(
    ctx: ServiceContext, actor: Actor, model_id: str, old: int, new: int
) -> tuple[dict[str, Any], dict[str, bytes], dict[str, bytes]]:
    if old == new:
        raise InvalidInput(
            "pick two different versions to compare", [{"field": "to", "message": "the same version as from"}]
        )
    before = version_files(ctx, actor, model_id, old)
    after = version_files(ctx, actor, model_id, new)
    return {"id": model_id, "from": old, "to": new, **diff_files(before, after)}, before, after


def compare(ctx: ServiceContext, actor: Actor, model_id: str, old: int, new: int) -> dict[str, Any]:
    """What changed from version `old` to version `new` (either order)."""
    return _compared(ctx, actor, model_id, old, new)[0]


def compare_with_diagram(
    ctx: ServiceContext, actor: Actor, model_id: str, old: int, new: int
) -> tuple[dict[str, Any], dict[str, str]]:
    """What changed, and the changed diagram to draw side by side (the model's own file first):
    {main, old_xml, new_xml}, empty when no diagram changed."""
    diff, before, after = _compared(ctx, actor, model_id, old, new)
    changed = sorted(diff["diagrams"])
    main = next((name for name in changed if name.startswith(model_id)), None) or next(iter(changed), None)
    if main is None:
        return diff, {}
    return diff, {
        "main": main,
        "old_xml": before.get(main, b"").decode("utf-8", "replace"),
        "new_xml": after.get(main, b"").decode("utf-8", "replace"),
    }

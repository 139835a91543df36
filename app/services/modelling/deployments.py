"""Deploying process models: checked bundles become immutable versions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, select

from ...db.models import Group, ModelDraft, ProcessFile, ProcessModel, ProcessVersion
from ...engine import translations
from ...engine.parser import called_processes, referenced_catalogues, referenced_forms
from ...engine.serializer import LoadedSpecs, dump_specs, load_specs
from ...errors import Conflict, Forbidden, InvalidInput, NotFound
from .. import audit
from ..context import ServiceContext
from ..people.users import Actor, group_names
from ..uow import UnitOfWork
from .checks import checked_bundle

MAX_COMMENT = 2000


@dataclass(frozen=True)
class DeployResult:
    model_id: str
    version: int
    created: bool
    warnings: list[dict[str, Any]] = field(default_factory=list)
    groups_created: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.model_id,
            "version": self.version,
            "created": self.created,
            "warnings": self.warnings,
            "groups_created": self.groups_created,
        }


def content_hash(files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def _date_or_none(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class EditedFrom:
    """A deploy from the editor: the version the analyst's work started from (None for a new
    model); a newer version deployed since refuses it. Their draft of the model goes with it."""

    base_version: int | None


def deploy(
    ctx: ServiceContext,
    actor: Actor,
    files: Mapping[str, bytes],
    *,
    process_id: str | None = None,
    comment: str = "",
    edited_from: EditedFrom | None = None,
) -> DeployResult:
    if not actor.is_analyst:
        raise Forbidden("only analysts may deploy process models")
    if len(comment) > MAX_COMMENT:
        limit = f"at most {MAX_COMMENT} characters"
        raise InvalidInput("the comment is too long", [{"field": "comment", "message": limit}])
    bundle = checked_bundle(ctx, files, process_id)
    warnings = [w.as_dict() for w in bundle.warnings]
    digest = content_hash(bundle.files)
    with ctx.uow(write=True) as uow:
        model = uow.session.get(ProcessModel, bundle.process_id, with_for_update=True)
        if edited_from is not None:
            _check_base(model, bundle.process_id, edited_from.base_version)
            uow.session.execute(
                delete(ModelDraft).where(
                    ModelDraft.username == actor.username,
                    ModelDraft.model_id.in_({bundle.process_id, process_id or bundle.process_id}),
                )
            )
        if model is not None and model.latest_version:
            latest = version_row(uow, model.id, model.latest_version)
            if latest.content_hash == digest:
                uow.commit()  # the draft it was made from is done with
                return DeployResult(model.id, model.latest_version, created=False, warnings=warnings)
        now = ctx.now()
        created_groups = _create_groups(uow, bundle.new_groups)
        if model is None:
            model = uow.add(ProcessModel(id=bundle.process_id, name="", latest_version=0, created_at=now))
        model.name = bundle.metadata.get("title_en") or bundle.metadata.get("name") or model.id
        model.latest_version += 1
        version = uow.add(
            ProcessVersion(
                model_id=model.id,
                version=model.latest_version,
                content_hash=digest,
                specs_json=dump_specs(bundle.spec, bundle.subprocess_specs),
                legal_basis=bundle.metadata.get("legal_basis_document", ""),
                in_force_from=_date_or_none(bundle.metadata.get("in_force_from")),
                in_force_to=_date_or_none(bundle.metadata.get("in_force_to")),
                metadata_json=bundle.metadata,
                start_messages=bundle.start_messages,
                lanes=bundle.lanes,
                deployed_by=actor.username,
                deployed_at=now,
                comment=comment,
                files=[ProcessFile(name=n, content=c) for n, c in sorted(bundle.files.items())],
            )
        )
        uow.session.flush()
        audit.record(
            uow,
            at=now,
            actor=actor.username,
            action="model.deployed",
            details={
                "model": model.id,
                "version": version.version,
                "files": sorted(bundle.files),
                "content_hash": digest,
                "groups_created": created_groups,
                "warnings": len(warnings),
                "comment": comment,
            },
        )
        result = DeployResult(model.id, version.version, True, warnings, created_groups)
        uow.commit()
    return result


def _check_base(model: ProcessModel | None, model_id: str, base_version: int | None) -> None:
    newest = model.latest_version if model is not None else None
    if newest == base_version:
        return
    if base_version is None:
        message = f"a process model '{model_id}' exists already (version {newest}): open it in the editor"
    else:
        message = (
            f"version {newest} of '{model_id}' was deployed after version {base_version}, which your work "
            "started from: compare the versions, then apply your changes to the newest one"
        )
    raise Conflict(message, [{"model_id": model_id, "newest_version": newest, "base_version": base_version}])


def _create_groups(uow: UnitOfWork, names: list[str]) -> list[str]:
    """The lanes' groups that do not exist (checked again under the write lock), made empty."""
    existing = group_names(uow)
    created = [name for name in names if name not in existing]
    for name in created:
        uow.add(Group(name=name, title=name))
    return created


def version_row(uow: UnitOfWork, model_id: str, version: int | None = None) -> ProcessVersion:
    query = select(ProcessVersion).where(ProcessVersion.model_id == model_id)
    if version is None:
        query = query.order_by(ProcessVersion.version.desc()).limit(1)
    else:
        query = query.where(ProcessVersion.version == version)
    row = uow.session.scalars(query).first()
    if row is None:
        raise NotFound(
            f"process model '{model_id}'" + (f" has no version {version}" if version else " not found")
        )
    return row


class VersionRef(NamedTuple):
    """What starting an instance needs of the newest version (its specs come from the cache)."""

    id: int
    model_id: str
    version: int
    metadata: dict[str, Any]
    lanes: list[str]


_V = ProcessVersion.__table__
_NEWEST_VERSION = (
    select(_V.c.id, _V.c.model_id, _V.c.version, _V.c.metadata_json, _V.c.lanes)
    .where(_V.c.model_id == bindparam("model_id"))
    .order_by(_V.c.version.desc())
    .limit(1)
)


_NEWEST_VERSION_ID = _NEWEST_VERSION.with_only_columns(_V.c.id)


def newest_version_id(uow: UnitOfWork, model_id: str) -> int | None:
    return uow.session.connection().execute(_NEWEST_VERSION_ID, {"model_id": model_id}).scalar()


def latest_version(uow: UnitOfWork, model_id: str) -> VersionRef:
    row = uow.session.connection().execute(_NEWEST_VERSION, {"model_id": model_id}).first()
    if row is None:
        raise NotFound(f"process model '{model_id}' not found")
    return VersionRef(row.id, row.model_id, row.version, row.metadata_json or {}, list(row.lanes or []))


def specs_of(ctx: ServiceContext, version: ProcessVersion) -> LoadedSpecs:
    return ctx.specs_cache.get_or_create(version.id, lambda: load_specs(version.specs_json))


def specs_by_id(ctx: ServiceContext, uow: UnitOfWork, version_id: int) -> LoadedSpecs:
    """The specs of a version, read from the database only when they are not cached yet."""

    def load() -> LoadedSpecs:
        specs_json = uow.session.scalar(
            select(ProcessVersion.specs_json).where(ProcessVersion.id == version_id)
        )
        if specs_json is None:
            raise NotFound(f"process version {version_id} not found")
        return load_specs(specs_json)

    return ctx.specs_cache.get_or_create(version_id, load)


def form_of(ctx: ServiceContext, uow: UnitOfWork, version_id: int, name: str) -> Any:
    def load() -> Any:
        row = uow.session.scalars(
            select(ProcessFile).where(ProcessFile.version_id == version_id, ProcessFile.name == name)
        ).first()
        return row.as_json() if row is not None else None

    return ctx.forms_cache.get_or_create((version_id, name), load)


def version_view(version: ProcessVersion) -> dict[str, Any]:
    return {
        "id": version.model_id,
        "version": version.version,
        "content_hash": version.content_hash,
        "legal_basis": version.legal_basis,
        "in_force_from": version.in_force_from.isoformat() if version.in_force_from else None,
        "in_force_to": version.in_force_to.isoformat() if version.in_force_to else None,
        "metadata": version.metadata_json,
        "deployed_by": version.deployed_by,
        "deployed_at": version.deployed_at.isoformat(),
        "comment": version.comment,
        "files": [f.name for f in version.files],
    }


def list_models(ctx: ServiceContext) -> list[dict[str, Any]]:
    with ctx.uow() as uow:
        models = uow.session.scalars(select(ProcessModel).order_by(ProcessModel.id)).all()
        return [
            {
                "id": m.id,
                "name": m.name,
                "latest_version": m.latest_version,
                "legal_basis": version_row(uow, m.id).legal_basis,
            }
            for m in models
        ]


def get_model(ctx: ServiceContext, model_id: str, version: int | None = None) -> dict[str, Any]:
    with ctx.uow() as uow:
        return version_view(version_row(uow, model_id, version))


def list_versions(ctx: ServiceContext, model_id: str) -> list[dict[str, Any]]:
    with ctx.uow() as uow:
        version_row(uow, model_id)
        rows = uow.session.scalars(
            select(ProcessVersion).where(ProcessVersion.model_id == model_id).order_by(ProcessVersion.version)
        )
        return [version_view(v) for v in rows]


def get_file(ctx: ServiceContext, model_id: str, name: str, version: int | None = None) -> bytes:
    with ctx.uow() as uow:
        row = version_row(uow, model_id, version)
        for file in row.files:
            if file.name == name:
                return file.content
    raise NotFound(f"file '{name}' is not part of process model '{model_id}'")


def bundles_in_folders(bpmn_dir: Path, forms_dir: Path) -> list[tuple[str, dict[str, bytes]]]:
    """(process id, files) for every BPMN file of a folder: the file, the files of the processes it
    calls (a called procedure such as the Council poll is also deployed as a model of its own), the
    DMN tables and the forms they reference."""
    contents = {p.name: p.read_bytes() for p in sorted(bpmn_dir.glob("*.bpmn"))}
    dmn = {p.name: p.read_bytes() for p in sorted(bpmn_dir.glob("*.dmn"))}
    defines: dict[str, str] = {}
    calls: dict[str, set[str]] = {}
    for name, content in contents.items():
        defined, called = called_processes(content)
        defines.update(dict.fromkeys(defined, name))
        calls[name] = called
    bundles = []
    for name in contents:
        selected: set[str] = set()
        pending = [name]
        while pending:
            current = pending.pop()
            if current not in selected:
                selected.add(current)
                pending.extend(defines[c] for c in calls[current] if c in defines)
        files = {n: contents[n] for n in sorted(selected)} | dmn
        forms = set().union(*(referenced_forms(files[n]) for n in selected))
        for form in sorted(forms):
            path = forms_dir / form
            if path.exists():
                files[form] = path.read_bytes()
        for catalogue in sorted(set().union(*(referenced_catalogues(files[n]) for n in selected))):
            path = bpmn_dir / catalogue
            if path.exists():
                files[catalogue] = path.read_bytes()
        bundles.append((Path(name).stem, files))
    return bundles


def deploy_folders(ctx: ServiceContext, actor: Actor, bpmn_dir: Path, forms_dir: Path) -> list[DeployResult]:
    return [
        deploy(ctx, actor, files, process_id=pid) for pid, files in bundles_in_folders(bpmn_dir, forms_dir)
    ]


def missing_translations(bpmn_dir: Path) -> list[str]:
    """Each text of a folder's diagrams that their catalogues lack in Kazakh or Russian, as
    `file: element.text.language`."""
    gaps = []
    for path in sorted(bpmn_dir.glob("*.bpmn")):
        catalogue_path = path.with_name(translations.catalogue_name(path.stem))
        catalogue = json.loads(catalogue_path.read_text()) if catalogue_path.exists() else {}
        gaps.extend(f"{path.name}: {gap}" for gap in translations.diagram_gaps(path.read_bytes(), catalogue))
    return gaps

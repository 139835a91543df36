"""What pages show of a model version, by language: the processes' and groups' titles, the
elements' names, the diagram with its labels, the labels of its forms and the legal basis of a step."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from ...db.models import ProcessFile, ProcessInstance, ProcessModel, ProcessVersion
from ...engine import spec_properties, translations
from ...errors import NotFound
from ..context import ServiceContext
from ..people.users import LANGUAGES
from ..uow import UnitOfWork
from .deployments import form_of, specs_by_id


def model_titles(model: ProcessModel, metadata: dict[str, Any]) -> dict[str, str]:
    """A model's title by language, from a version's metadata (in English the model's name or id
    when the metadata has none)."""
    titles = {"en": metadata.get("title_en") or model.name or model.id}
    titles.update({lang: metadata[f"title_{lang}"] for lang in LANGUAGES if metadata.get(f"title_{lang}")})
    return titles


def latest_version_join() -> Any:
    """The condition that joins each process model to its latest version."""
    return (ProcessVersion.model_id == ProcessModel.id) & (
        ProcessVersion.version == ProcessModel.latest_version
    )


def _version_files(uow: UnitOfWork, model_id: str, version: int) -> list[ProcessFile]:
    row = uow.session.scalars(
        select(ProcessVersion).where(ProcessVersion.model_id == model_id, ProcessVersion.version == version)
    ).first()
    if row is None:
        raise NotFound(f"process model '{model_id}' has no version {version}")
    return list(row.files)


def _diagram_of(files: list[ProcessFile], model_id: str) -> bytes:
    bpmn = [f for f in files if f.name.endswith(".bpmn")]
    for file in bpmn:
        if file.name == f"{model_id}.bpmn":
            return file.content
    for file in bpmn:
        if f'id="{model_id}"'.encode() in file.content:
            return file.content
    raise NotFound(f"no diagram for process model '{model_id}'")


def diagram_with_labels(
    ctx: ServiceContext, model_id: str, version: int
) -> tuple[bytes, dict[str, dict[str, str]]]:
    """A version's diagram and every label it draws by language (flows, lanes and pools too),
    from the version's translation catalogue."""
    with ctx.uow() as uow:
        files = _version_files(uow, model_id, version)
        xml = _diagram_of(files, model_id)
        catalogue = next((f for f in files if f.name == translations.catalogue_name(model_id)), None)
        document = json.loads(catalogue.content) if catalogue is not None else {}
    return xml, translations.diagram_names(xml, document)


def process_titles(ctx: ServiceContext) -> dict[str, dict[str, str]]:
    """Titles of every process model by language, from its latest version (one query)."""
    query = select(ProcessModel, ProcessVersion.metadata_json).join(ProcessVersion, latest_version_join())
    with ctx.uow() as uow:
        rows = uow.session.execute(query)
        return {model.id: model_titles(model, dict(metadata or {})) for model, metadata in rows}


def version_forms(
    ctx: ServiceContext, model_id: str, version: int
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(JSON Schema, UI schema) of every form of a model version: the labels of its data."""
    with ctx.uow() as uow:
        version_id = uow.session.scalar(
            select(ProcessVersion.id).where(
                ProcessVersion.model_id == model_id, ProcessVersion.version == version
            )
        )
        if version_id is None:
            return []
        names = set(uow.session.scalars(select(ProcessFile.name).where(ProcessFile.version_id == version_id)))
        forms = []
        for name in sorted(n for n in names if n.endswith(".schema.json")):
            ui_name = name.replace(".schema.json", ".uischema.json")
            ui = form_of(ctx, uow, version_id, ui_name) if ui_name in names else {}
            forms.append((form_of(ctx, uow, version_id, name), ui))
        return forms


def element_titles(ctx: ServiceContext, model_id: str, version: int) -> dict[str, dict[str, str]]:
    """Names of the elements of a model version by language, for timelines and diagrams."""
    with ctx.uow() as uow:
        version_id = uow.session.scalar(
            select(ProcessVersion.id).where(
                ProcessVersion.model_id == model_id, ProcessVersion.version == version
            )
        )
        if version_id is None:
            return {}
        return spec_properties.element_titles(specs_by_id(ctx, uow, version_id))


def group_titles(ctx: ServiceContext) -> dict[str, dict[str, str]]:
    """Names of groups by language, from the catalogues of the models' latest versions."""
    query = (
        select(ProcessFile.version_id, ProcessFile.name)
        .join(ProcessVersion, ProcessVersion.id == ProcessFile.version_id)
        .join(ProcessModel, latest_version_join())
        .where(ProcessFile.name.like("%" + translations.SUFFIX))
    )
    titles: dict[str, dict[str, str]] = {}
    with ctx.uow() as uow:
        for version_id, name in uow.session.execute(query):
            catalogue = form_of(ctx, uow, version_id, name) or {}
            for group, texts in translations.group_titles(catalogue).items():
                titles.setdefault(group, {}).update(texts)
    return titles


def latest_element_titles(ctx: ServiceContext) -> dict[str, dict[str, dict[str, str]]]:
    """Element names by language of every model's latest version: {model: {element: names}}."""
    with ctx.uow() as uow:
        rows = list(
            uow.session.execute(
                select(ProcessModel.id, ProcessVersion.id).join(ProcessVersion, latest_version_join())
            )
        )
        return {
            model_id: spec_properties.element_titles(specs_by_id(ctx, uow, version_id))
            for model_id, version_id in rows
        }


def instance_forms(ctx: ServiceContext, instance_id: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The forms of an instance's own version (see `version_forms`)."""
    with ctx.uow() as uow:
        row = uow.session.execute(
            select(ProcessVersion.model_id, ProcessVersion.version)
            .join(ProcessInstance, ProcessInstance.version_id == ProcessVersion.id)
            .where(ProcessInstance.id == instance_id)
        ).first()
    return version_forms(ctx, row.model_id, row.version) if row is not None else []


def legal_basis_of(ctx: ServiceContext, instance_id: int, element_id: str) -> dict[str, str]:
    """The legal basis of an element of an instance's version by language (empty when it has
    none: a step of practice)."""
    with ctx.uow() as uow:
        version_id = uow.session.scalar(
            select(ProcessInstance.version_id).where(ProcessInstance.id == instance_id)
        )
        if version_id is None:
            return {}
        properties = spec_properties.element_properties(specs_by_id(ctx, uow, version_id), element_id)
    texts = {"en": properties.get("legal_basis", "")}
    texts.update(
        {
            lang: properties[f"legal_basis_{lang}"]
            for lang in ("kk", "ru")
            if properties.get(f"legal_basis_{lang}")
        }
    )
    return texts if texts["en"] else {}

"""The processes a user may start (see `instances.may_start`): the latest version of each such
model, with its titles, descriptions and start form."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ...db.models import ProcessModel, ProcessVersion
from ..context import ServiceContext
from ..modelling.deployments import form_of
from ..modelling.texts import latest_version_join, model_titles
from ..people.users import LANGUAGES, Actor
from .instances import may_start

START_FORM_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename")


def startable_models(ctx: ServiceContext, actor: Actor) -> list[dict[str, Any]]:
    """Latest version of every model the actor may start, with its titles and start form (if any)."""
    query = (
        select(ProcessModel, ProcessVersion)
        .join(ProcessVersion, latest_version_join())
        .order_by(ProcessModel.id)
    )
    result = []
    with ctx.uow() as uow:
        for model, version in uow.session.execute(query):
            metadata = dict(version.metadata_json or {})
            if not may_start(actor, metadata, version.lanes or []):
                continue
            schema_name, ui_name = (metadata.get(p) for p in START_FORM_PROPERTIES)
            result.append(
                {
                    "id": model.id,
                    "version": version.version,
                    "titles": model_titles(model, metadata),
                    "descriptions": {
                        lang: metadata[f"description_{lang}"]
                        for lang in LANGUAGES
                        if metadata.get(f"description_{lang}")
                    },
                    "start_groups": metadata.get("start_groups") or "",
                    "legal_basis": version.legal_basis,
                    "schema": form_of(ctx, uow, version.id, schema_name) if schema_name else None,
                    "ui_schema": form_of(ctx, uow, version.id, ui_name) if ui_name else None,
                }
            )
    return result

"""How an instance is found: its business key and its searchable values, from its data.

A process names them with two properties: `business_key` (the variable people call a case by,
such as an appeal's `registration_number`) and `searchable` (variables, comma-separated, that
administrators may look instances up by). Each save stores the business key on the instance's row
and the searchable values in `instance_values`, both indexed: a search reads no instance state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select

from ...db.models import InstanceValue, ProcessInstance, ProcessVersion
from ..context import ServiceContext
from ..uow import UnitOfWork

MAX_VALUE = 255
_VALUES = InstanceValue.__table__
_DELETE_VALUES = delete(_VALUES).where(_VALUES.c.instance_id == bindparam("instance_id"))
_INSERT_VALUES = insert(_VALUES)


@dataclass(frozen=True)
class SearchKeys:
    business_key: str | None
    searchable: tuple[str, ...]


def _names(text: Any) -> tuple[str, ...]:
    return tuple(n.strip() for n in str(text or "").split(",") if n.strip().isidentifier())


def search_keys(ctx: ServiceContext, uow: UnitOfWork, version_id: int) -> SearchKeys:
    """A version's keys, read once per version."""

    def load() -> SearchKeys:
        metadata = uow.session.scalar(
            select(ProcessVersion.metadata_json).where(ProcessVersion.id == version_id)
        )
        metadata = metadata or {}
        key = _names(metadata.get("business_key"))
        return SearchKeys(key[0] if key else None, _names(metadata.get("searchable")))

    return ctx.forms_cache.get_or_create((version_id, "#search-keys"), load)


def as_text(value: Any) -> str | None:
    """A value as it is searched for: text, numbers and yes/no as written; nothing for the rest."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str) and str(value).strip():
        return str(value).strip()[:MAX_VALUE]
    return None


def business_key_of(keys: SearchKeys, data: dict[str, Any]) -> str | None:
    return as_text(data.get(keys.business_key)) if keys.business_key else None


def store_values(
    connection: Connection, instance: ProcessInstance, keys: SearchKeys, data: dict[str, Any], is_new: bool
) -> None:
    if not keys.searchable:
        return
    if not is_new:
        connection.execute(_DELETE_VALUES, {"instance_id": instance.id})
    rows = [
        {"instance_id": instance.id, "name": name, "value": text}
        for name in keys.searchable
        if (text := as_text(data.get(name))) is not None
    ]
    if rows:
        connection.execute(_INSERT_VALUES, rows)

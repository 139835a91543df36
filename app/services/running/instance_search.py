"""Finding instances: by process model and version, status, who started them, when they started or
ended, business key and searchable value, sorted and paginated. Every filter is a condition on an
indexed column of `process_instances` or `instance_values`; no instance's state is read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, or_, select

from ...db.models import STATUSES, InstanceValue, ProcessInstance, ProcessVersion
from ...errors import InvalidInput
from ..context import ServiceContext
from ..people.users import Actor
from ..uow import UnitOfWork

SORTS = {
    "newest": (ProcessInstance.created_at.desc(), ProcessInstance.id.desc()),
    "oldest": (ProcessInstance.created_at.asc(), ProcessInstance.id.asc()),
    "updated": (ProcessInstance.updated_at.desc(), ProcessInstance.id.desc()),
}


@dataclass(frozen=True)
class InstanceFilter:
    status: str | None = None
    model_id: str | None = None
    version: int | None = None
    started_by: str | None = None
    started_from: date | None = None  # days in the server's time zone, both ends included
    started_to: date | None = None
    ended_from: date | None = None
    ended_to: date | None = None
    business_key: str | None = None
    field: str | None = None  # a searchable variable of the process, and its value
    value: str | None = None
    sort: str = "newest"


def _refused(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", [{"field": field, "message": message}])


def _checked(found: InstanceFilter) -> None:
    if found.status and found.status not in STATUSES:
        raise _refused("status", f"one of {', '.join(STATUSES)}")
    if found.sort not in SORTS:
        raise _refused("sort", f"one of {', '.join(SORTS)}")
    if (found.field is None) != (found.value is None):
        raise _refused("value" if found.field else "field", "field and value go together")


# Days outside these bounds match the same instances as the bounds themselves (none were started
# before 1970 or will be after 2199), and near year 1 or 9999 the UTC conversion would overflow.
_FIRST_DAY, _LAST_DAY = date(1970, 1, 1), date(2199, 12, 31)


def _day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(min(max(day, _FIRST_DAY), _LAST_DAY), time.min, tzinfo=zone)
    return start, start + timedelta(days=1)


def _filtered(query: Select, found: InstanceFilter, zone: ZoneInfo) -> Select:
    i = ProcessInstance
    conditions: list[Any] = []
    if found.status:
        conditions.append(i.status == found.status)
    if found.model_id:
        conditions.append(i.model_id == found.model_id)
    if found.version is not None:
        conditions.append(ProcessVersion.version == found.version)
    if found.started_by:
        conditions.append(i.started_by == found.started_by)
    if found.started_from:
        conditions.append(i.created_at >= _day_bounds(found.started_from, zone)[0])
    if found.started_to:
        conditions.append(i.created_at < _day_bounds(found.started_to, zone)[1])
    if found.ended_from or found.ended_to:
        if found.ended_from:
            conditions.append(i.ended_at >= _day_bounds(found.ended_from, zone)[0])
        if found.ended_to:
            conditions.append(i.ended_at < _day_bounds(found.ended_to, zone)[1])
    if found.business_key:
        conditions.append(i.business_key == found.business_key)
    if found.field is not None:
        matching = select(InstanceValue.instance_id).where(
            InstanceValue.name == found.field, InstanceValue.value == found.value
        )
        conditions.append(i.id.in_(matching))
    return query.where(*conditions)


def _readable_versions(uow: UnitOfWork, actor: Actor) -> list[int]:
    """Versions whose lanes include one of the actor's groups (the table is small)."""
    rows = uow.session.execute(select(ProcessVersion.id, ProcessVersion.lanes))
    return [version_id for version_id, lanes in rows if actor.groups.intersection(lanes or [])]


def list_instances(
    ctx: ServiceContext,
    actor: Actor,
    *,
    limit: int = 100,
    offset: int = 0,
    **filters: Any,
) -> list[dict[str, Any]]:
    """Instances the actor may read that match `filters` (the fields of `InstanceFilter`)."""
    found = InstanceFilter(**filters)
    _checked(found)
    columns = (ProcessInstance, ProcessVersion.version)
    query = select(*columns).join(ProcessVersion, ProcessVersion.id == ProcessInstance.version_id)
    query = _filtered(query, found, ZoneInfo(ctx.settings.timezone))
    query = query.order_by(*SORTS[found.sort]).limit(min(limit, 1000)).offset(offset)
    with ctx.uow() as uow:
        if not actor.is_admin:
            query = query.where(
                or_(
                    ProcessInstance.started_by == actor.username,
                    ProcessInstance.version_id.in_(_readable_versions(uow, actor)),
                )
            )
        return [
            {
                "id": i.id,
                "process_model": i.model_id,
                "version": version,
                "status": i.status,
                "business_key": i.business_key,
                "started_by": i.started_by,
                "created_at": i.created_at.isoformat(),
                "updated_at": i.updated_at.isoformat(),
            }
            for i, version in uow.session.execute(query)
        ]


def business_keys(ctx: ServiceContext, instance_ids: Iterable[int]) -> dict[int, str]:
    """The business keys of some instances (those that have one), for pages that name them."""
    ids = sorted(set(instance_ids))
    if not ids:
        return {}
    query = select(ProcessInstance.id, ProcessInstance.business_key).where(
        ProcessInstance.id.in_(ids), ProcessInstance.business_key.is_not(None)
    )
    with ctx.uow() as uow:
        return {instance_id: key for instance_id, key in uow.session.execute(query)}

"""Moving every running (or suspended) instance of a version to another, as a job with progress.

The job lists the instances when it is asked for, then moves them one after another in a thread of
the process that took the request, each with `migration.migrate_instance`: its own transaction
under the instance's row lock. One instance that cannot move (refused) or whose move fails does not
stop the others. Two jobs over the same instances at once move each instance once: the second finds
it on the target version already and reports it refused.

The process running a job writes a heartbeat with each result. When it dies (a server restarted
mid-job), the heartbeat stops; after STALLED_AFTER a scheduler (`resume_stalled`) takes the job
over, atomically, and moves the instances it had not reached yet.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update

from ...db.models import MigrationJob, ProcessInstance, ProcessVersion
from ...errors import AppError, Conflict, InvalidInput, NotFound
from .. import audit
from ..context import ServiceContext
from ..people import users
from ..people.users import SYSTEM, Actor
from .migration import MOVABLE_STATUSES, migrate_instance

log = logging.getLogger(__name__)
MOVED, REFUSED, FAILED = "moved", "refused", "failed"
STALLED_AFTER = timedelta(seconds=60)


def _new_runner() -> str:
    """Who runs a job, one token per run: two runs never share one, even in forked workers."""
    return f"{socket.gethostname()[:20]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class _TakenOver(Exception):
    """Another process runs the job now (this one was thought dead): stop."""


def job_view(job: MigrationJob) -> dict[str, Any]:
    results = list(job.results or [])
    return {
        "id": job.id,
        "process_model": job.model_id,
        "from_version": job.from_version,
        "to_version": job.to_version,
        "requested_by": job.requested_by,
        "status": job.status,
        "total": len(job.instance_ids or []),
        "done": len(results),
        "moved": sum(1 for r in results if r["outcome"] == MOVED),
        "refused": sum(1 for r in results if r["outcome"] == REFUSED),
        "failed": sum(1 for r in results if r["outcome"] == FAILED),
        "results": results,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def _version_id(ctx: ServiceContext, model_id: str, version: int) -> int:
    with ctx.uow() as uow:
        found = uow.session.scalar(
            select(ProcessVersion.id).where(
                ProcessVersion.model_id == model_id, ProcessVersion.version == version
            )
        )
    if found is None:
        raise NotFound(f"process model '{model_id}' has no version {version}")
    return found


def create_job(ctx: ServiceContext, actor: Actor, model_id: str, from_version: int, to_version: int) -> int:
    """The job, with the instances it will move; `run_job` moves them."""
    actor.require_admin()
    if from_version == to_version:
        raise InvalidInput("the versions are the same", [{"field": "to", "message": "another version"}])
    source = _version_id(ctx, model_id, from_version)
    _version_id(ctx, model_id, to_version)
    with ctx.uow(write=True) as uow:
        ids = list(
            uow.session.scalars(
                select(ProcessInstance.id)
                .where(ProcessInstance.version_id == source, ProcessInstance.status.in_(MOVABLE_STATUSES))
                .order_by(ProcessInstance.id)
            )
        )
        job = MigrationJob(
            model_id=model_id,
            from_version=from_version,
            to_version=to_version,
            requested_by=actor.username,
            status="running" if ids else "done",
            instance_ids=ids,
            results=[],
            created_at=ctx.now(),
            finished_at=None if ids else ctx.now(),
        )
        uow.session.add(job)
        uow.session.flush()
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="migration.job_started",
            details={
                "job": job.id,
                "model": model_id,
                "from": from_version,
                "to": to_version,
                "total": len(ids),
            },
        )
        job_id = job.id
        uow.commit()
    return job_id


def run_job(ctx: ServiceContext, actor: Actor, job_id: int, runner: str | None = None) -> dict[str, Any]:
    """Move the job's instances one by one, writing each result as it comes; instances with a
    result already (a job taken over) are not moved again. `runner`: the token a takeover
    claimed the job with (else the run claims it with a new one)."""
    runner = runner or _new_runner()
    with ctx.uow(write=True) as uow:
        job = uow.session.get(MigrationJob, job_id, with_for_update=True)
        if job is None:
            raise NotFound(f"migration job {job_id} not found")
        done = {result["instance_id"] for result in job.results or []}
        ids = [i for i in job.instance_ids or [] if i not in done]
        to_version = job.to_version
        job.runner, job.heartbeat_at = runner, ctx.now()
        if not ids and job.status == "running":
            job.status, job.finished_at = "done", ctx.now()
        uow.commit()
    try:
        for instance_id in ids:
            result = _move(ctx, actor, instance_id, to_version)
            _record(ctx, job_id, runner, result, last=instance_id == ids[-1])
    except _TakenOver:
        log.warning("migration job %s: taken over by another process", job_id)
    return get_job(ctx, actor, job_id)


def _move(ctx: ServiceContext, actor: Actor, instance_id: int, to_version: int) -> dict[str, Any]:
    try:
        migrate_instance(ctx, actor, instance_id, to_version)
        return {"instance_id": instance_id, "outcome": MOVED, "message": None}
    except (Conflict, NotFound) as exc:
        return {"instance_id": instance_id, "outcome": REFUSED, "message": exc.message}
    except Exception as exc:  # noqa: BLE001 - one instance's failure must not stop the others
        log.exception("moving instance %s failed", instance_id)
        message = exc.message if isinstance(exc, AppError) else f"{type(exc).__name__}: {exc}"
        return {"instance_id": instance_id, "outcome": FAILED, "message": message}


def _record(ctx: ServiceContext, job_id: int, runner: str, result: dict[str, Any], *, last: bool) -> None:
    """Add a result under the job's row lock, while the job is still this run's."""
    with ctx.uow(write=True) as uow:
        job = uow.session.get(MigrationJob, job_id, with_for_update=True)
        if job.runner != runner:
            raise _TakenOver
        job.results = [*(job.results or []), result]
        job.heartbeat_at = ctx.now()
        if last:
            job.status, job.finished_at = "done", ctx.now()
        uow.commit()


def resume_stalled(ctx: ServiceContext) -> list[int]:
    """Take over the running jobs whose process stopped writing (each by one process only: the
    claim is a conditional update) and go on with them in threads; their ids."""
    now = ctx.now()
    cutoff = now - STALLED_AFTER
    job = MigrationJob
    stalled = and_(
        job.status == "running",
        or_(job.heartbeat_at < cutoff, and_(job.heartbeat_at.is_(None), job.created_at < cutoff)),
    )
    taken: list[tuple[int, str, str]] = []
    with ctx.uow(write=True) as uow:
        for job_id, requested_by in uow.session.execute(
            select(job.id, job.requested_by).where(stalled)
        ).all():
            runner = _new_runner()
            claim = update(job).where(job.id == job_id, stalled).values(runner=runner, heartbeat_at=now)
            if uow.session.execute(claim).rowcount == 1:
                taken.append((job_id, requested_by, runner))
                audit.record(uow, at=now, actor=SYSTEM.username, action="migration.job_resumed",
                             details={"job": job_id, "runner": runner})  # fmt: skip
        uow.commit()
    for job_id, requested_by, runner in taken:
        actor = _actor_of(ctx, requested_by)
        threading.Thread(
            target=run_job, args=(ctx, actor, job_id, runner), name=f"migration-job-{job_id}", daemon=True
        ).start()
    return [job_id for job_id, _, _ in taken]


def _actor_of(ctx: ServiceContext, username: str) -> Actor:
    """Who asked for the job, when still an administrator; else the system."""
    try:
        actor = users.actor_for(ctx, username)
    except AppError:
        return SYSTEM
    return actor if actor.is_admin else SYSTEM


def start_job(ctx: ServiceContext, actor: Actor, model_id: str, from_version: int, to_version: int) -> dict:
    """Create the job and run it in a thread; its view at once, to poll with `get_job`."""
    job_id = create_job(ctx, actor, model_id, from_version, to_version)
    threading.Thread(
        target=run_job, args=(ctx, actor, job_id), name=f"migration-job-{job_id}", daemon=True
    ).start()
    return get_job(ctx, actor, job_id)


def get_job(ctx: ServiceContext, actor: Actor, job_id: int) -> dict[str, Any]:
    actor.require_admin()
    with ctx.uow() as uow:
        job = uow.session.get(MigrationJob, job_id)
        if job is None:
            raise NotFound(f"migration job {job_id} not found")
        return job_view(job)

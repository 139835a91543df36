"""The deploy checks of a bundle of files, run before anything is stored, and on their own for
the editor and `POST /model-checks`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...engine.errors import BundleInvalid
from ...engine.parser import ProcessBundle, parse_bundle
from ...engine.scripting import SandboxEnvironment
from ...engine.timer_checks import TimerEvaluator
from ...errors import Forbidden, InvalidInput
from .. import audit
from ..context import ServiceContext
from ..people.users import Actor, group_names


class BundleRefused(InvalidInput):
    """The files fail the deploy checks: `details` lists the problems; `warnings`, what the
    checks found besides before they stopped."""

    warnings: list[dict[str, Any]]


def checked_bundle(ctx: ServiceContext, files: Mapping[str, bytes], process_id: str | None) -> ProcessBundle:
    """The bundle after every deploy check; InvalidInput listing the problems (and the warnings
    found so far) when it fails them. The checks run diagram code in sandbox workers: callers
    run this before taking the write lock, not under it."""
    with ctx.uow() as uow:
        known_groups = group_names(uow)
    try:
        return parse_bundle(
            files, known_groups=known_groups, process_id=process_id, evaluate=_timer_evaluator(ctx)
        )
    except BundleInvalid as exc:
        refused = BundleRefused("the process model was not deployed", [p.as_dict() for p in exc.problems])
        refused.warnings = [w.as_dict() for w in exc.warnings]
        raise refused from exc


def validate(
    ctx: ServiceContext, actor: Actor, files: Mapping[str, bytes], *, process_id: str | None = None
) -> dict[str, Any]:
    """The deploy checks without deploying: {valid, id, problems, warnings}. Audited, as analysts'
    work on a model is."""
    if not actor.is_analyst:
        raise Forbidden("only analysts may validate process models")
    try:
        bundle = checked_bundle(ctx, files, process_id)
        result = {
            "valid": True,
            "id": bundle.process_id,
            "problems": [],
            "warnings": [w.as_dict() for w in bundle.warnings],
        }
    except BundleRefused as exc:
        result = {"valid": False, "id": process_id, "problems": exc.details, "warnings": exc.warnings}
    with ctx.uow(write=True) as uow:
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="model.validated",
            details={
                "model": result["id"],
                "files": sorted(files),
                "valid": result["valid"],
                "problems": len(result["problems"]),
            },
        )
        uow.commit()
    return result


def _timer_evaluator(ctx: ServiceContext) -> TimerEvaluator:
    environment = SandboxEnvironment(ctx.sandbox)
    return lambda source: environment.evaluate(source, {})

"""Administrators' view of the timers: list, fire now, move."""

from __future__ import annotations

from flask import request

from ..services.time import timer_admin
from . import bp
from .common import current_actor, int_arg, json_body, services


@bp.get("/timers")
def list_timers():
    """Upcoming timers, earliest first (administrators)."""
    return {
        "timers": timer_admin.list_timers(
            services(),
            current_actor(),
            model_id=request.args.get("process_model") or None,
            element_id=request.args.get("element_id") or None,
            limit=int_arg("limit", 100, minimum=1, maximum=1000),
            offset=int_arg("offset", 0, minimum=0),
        )
    }


@bp.post("/timers/<int:timer_id>/fire")
def fire_timer(timer_id: int):
    return timer_admin.fire_timer_now(services(), current_actor(), timer_id)


@bp.post("/timers/<int:timer_id>/move")
def move_timer(timer_id: int):
    actor = current_actor()
    return timer_admin.move_timer(services(), actor, timer_id, json_body().get("due_at"))

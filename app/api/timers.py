"""Administrators' view of the timers: list, fire now, move."""

from __future__ import annotations

from ..services.time import timer_admin
from . import bp
from .common import current_actor, services
from .contract import body as request_body
from .contract import query


@bp.get("/timers")
def list_timers():
    """Upcoming timers, earliest first (administrators)."""
    return {
        "timers": timer_admin.list_timers(
            services(),
            current_actor(),
            model_id=query("process_model"),
            element_id=query("element_id"),
            limit=query("limit", 100),
            offset=query("offset", 0),
        )
    }


@bp.post("/timers/<int:timer_id>/fire")
def fire_timer(timer_id: int):
    return timer_admin.fire_timer_now(services(), current_actor(), timer_id)


@bp.post("/timers/<int:timer_id>/move")
def move_timer(timer_id: int):
    actor = current_actor()
    return timer_admin.move_timer(services(), actor, timer_id, request_body()["due_at"])

"""The Deputy Chairmen's rotation terms (Secretariat and administrators)."""

from __future__ import annotations

from ..services.time import rotation
from . import bp
from .common import current_actor, services
from .contract import body as request_body


@bp.get("/rotation")
def get_rotation():
    return rotation.get_rotation(services(), current_actor())


@bp.put("/rotation")
def update_rotation():
    actor = current_actor()
    return rotation.update_rotation(services(), actor, request_body())

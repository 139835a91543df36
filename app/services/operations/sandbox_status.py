"""What administrators see of the sandbox: the limits in force and the isolation layers."""

from __future__ import annotations

from typing import Any

from ...errors import Forbidden
from ..context import ServiceContext
from ..people.users import Actor

# The order the layers are shown in, outermost first.
LAYERS = ("limits", "user", "landlock", "seccomp")


def sandbox_status(ctx: ServiceContext, actor: Actor) -> dict[str, Any]:
    """The settings of diagram code and, per isolation layer, 'active ...' or why it is not (a
    worker is started to ask when none has run yet)."""
    if not actor.is_admin:
        raise Forbidden("only administrators may see the sandbox's settings")
    settings = ctx.settings
    layers = ctx.sandbox.describe()
    return {
        "limits": {
            "SCRIPT_CPU_SECONDS": settings.script_cpu_seconds,
            "SCRIPT_MEMORY_MB": settings.script_memory_mb,
            "SCRIPT_WALL_SECONDS": settings.script_wall_seconds,
            "SCRIPT_WORKERS": settings.script_workers,
            "SCRIPT_QUEUE_SECONDS": settings.script_queue_seconds or settings.script_wall_seconds,
            "SCRIPT_WORKER_USES": settings.script_worker_uses,
        },
        "layers": [_layer(name, layers.get(name, "unknown")) for name in LAYERS],
    }


def _layer(name: str, state: str) -> dict[str, Any]:
    if state.startswith("active"):
        kind = "active"
    else:
        kind = "not_needed" if state.startswith("not needed") else "off"
    # The detail beside the translated badge: the kernel's ABI, the user's id, or why not.
    detail = state.removeprefix("active").strip() if kind == "active" else state
    return {"name": name, "state": state, "kind": kind, "detail": detail}

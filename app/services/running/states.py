"""What an instance's status allows: a suspended instance's tasks are left as they are."""

from __future__ import annotations

from ...db.models import ProcessInstance
from ...errors import Suspended

SUSPENDED = "suspended"
ENDED = ("complete", "cancelled")  # an instance in these never changes again


def refuse_if_suspended(instance: ProcessInstance, doing: str) -> None:
    """409 for any change to a suspended instance's tasks."""
    if instance.status == SUSPENDED:
        raise Suspended(
            f"process instance {instance.id} is suspended: its tasks cannot be {doing} until an "
            "administrator resumes it"
        )

"""All mapped classes, imported here so metadata is complete wherever models are used."""

from .audit import AuditRecord
from .definition import ProcessFile, ProcessModel, ProcessVersion
from .instance import STATUSES, ProcessInstance
from .task import HumanTask
from .timer import MessageSubscription, WaitingTimer
from .user import Group, Membership, User

__all__ = [
    "STATUSES",
    "AuditRecord",
    "Group",
    "HumanTask",
    "Membership",
    "MessageSubscription",
    "ProcessFile",
    "ProcessInstance",
    "ProcessModel",
    "ProcessVersion",
    "User",
    "WaitingTimer",
]

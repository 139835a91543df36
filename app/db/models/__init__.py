"""All mapped classes, imported here so metadata is complete wherever models are used."""

from .attachment import Attachment
from .audit import AuditRecord
from .calendar_transfer import TRANSFER_KINDS, CalendarTransfer
from .completion_time import CompletionTime, bucket_of
from .definition import ModelDraft, ProcessFile, ProcessModel, ProcessVersion
from .instance import STATUSES, InstanceLogLine, InstanceValue, ProcessInstance
from .migration_job import MigrationJob
from .rotation_term import DEFAULT_LEAD_DAYS, RotationTerm
from .saved_filter import SavedFilter
from .scheduled_start import ScheduledStart
from .task import ClosedTask, HumanTask, HumanTaskGroup
from .timer import HeldMessage, MessageSubscription, WaitingTimer
from .user import Group, Membership, User

__all__ = [
    "DEFAULT_LEAD_DAYS",
    "STATUSES",
    "TRANSFER_KINDS",
    "Attachment",
    "AuditRecord",
    "CalendarTransfer",
    "ClosedTask",
    "CompletionTime",
    "Group",
    "HumanTask",
    "HumanTaskGroup",
    "Membership",
    "MigrationJob",
    "ModelDraft",
    "HeldMessage",
    "MessageSubscription",
    "ProcessFile",
    "InstanceLogLine",
    "InstanceValue",
    "ProcessInstance",
    "ProcessModel",
    "ProcessVersion",
    "RotationTerm",
    "SavedFilter",
    "ScheduledStart",
    "User",
    "WaitingTimer",
    "bucket_of",
]

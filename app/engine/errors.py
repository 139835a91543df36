"""Engine errors that keep the context a person needs to find the problem."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    """One problem found in a deployed file: where it is and what is wrong."""

    file: str | None
    line: int | None
    element_id: str | None
    message: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class EngineError(Exception):
    """A workflow could not be advanced; names the element that failed."""

    def __init__(
        self,
        message: str,
        element_id: str | None = None,
        task_id: str | None = None,
        limit: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.element_id = element_id
        self.task_id = task_id
        # Which sandbox limit stopped diagram code ('cpu', 'memory', 'time'), if one did.
        self.limit = limit


class BundleInvalid(Exception):
    """A set of BPMN/DMN/form files cannot be deployed; lists every problem found."""

    def __init__(self, problems: list[Problem], warnings: list[Problem] | None = None) -> None:
        super().__init__(f"{len(problems)} problem(s) in the deployment")
        self.problems = problems
        self.warnings = warnings or []  # what was found besides, when the checks got that far


class TaskNotReady(Exception):
    """The task is not (or no longer) waiting for a person."""


class MessageNotAwaited(Exception):
    """The workflow does not wait for that message with those correlation values."""

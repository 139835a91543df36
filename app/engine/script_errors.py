"""What can go wrong with diagram code, and what is the server's fault instead."""

from __future__ import annotations

from ..errors import Unavailable


class ScriptError(Exception):
    """Diagram code failed: refused, raised, hit a limit or left a value that cannot be stored.
    The instance it ran for goes to error (an incident); a deployment is refused (422).

    Deliberately not a SyntaxError: SpiffWorkflow's error formatter crashes on a SyntaxError
    that has no line number."""

    limit: str | None = None

    def __init__(self, message: str, *, line: int | None = None, limit: str | None = None) -> None:
        super().__init__(message)
        self.line = line
        if limit is not None:
            self.limit = limit


class ScriptRejected(ScriptError):
    """The code does not compile under the sandbox's rules."""


class ScriptRaised(ScriptError):
    """The code raised an exception (any BaseException: SystemExit too)."""


class ScriptLimitExceeded(ScriptError):
    """The code used more CPU time, memory or wall-clock time than allowed (`limit`)."""


class ScriptValueError(ScriptError):
    """The code left a value that task data cannot hold (a generator, NaN, a huge integer...)."""


class ScriptCrashed(ScriptError):
    """The worker running the code died, twice, with no limit to blame."""


class SandboxUnavailable(Unavailable):
    """No sandbox worker could take the evaluation in time (all busy, or none could start).
    Not the diagram's fault: the request is refused as a whole (503) and nothing changes."""

"""Decisions and their explanations."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from policyeval.errors import Span


class Outcome(StrEnum):
    """The IAM policy simulator's words, plus CONDITIONAL for unknown context."""

    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitDeny"
    IMPLICIT_DENY = "implicitDeny"
    CONDITIONAL = "conditional"

    @property
    def batch_word(self) -> str | None:
        """The word of the batch format (`Allow`, `ImplicitDeny`, `ExplicitDeny`)."""
        return _BATCH.get(self)


_BATCH = {
    Outcome.ALLOWED: "Allow",
    Outcome.EXPLICIT_DENY: "ExplicitDeny",
    Outcome.IMPLICIT_DENY: "ImplicitDeny",
}


class Gate(StrEnum):
    """The policy types of AWS's evaluation logic, in the order the engine applies them."""

    SCP = "scp"
    RCP = "rcp"
    RESOURCE = "resource"
    IDENTITY = "identity"
    BOUNDARY = "boundary"
    SESSION = "session"


@dataclass(frozen=True, slots=True)
class StatementRef:
    """Where a statement that counted comes from: gate, policy, Sid or index, position."""

    gate: Gate
    policy: str
    index: int
    sid: str | None
    effect: str
    span: Span | None = None

    def label(self) -> str:
        where = f" at {self.span}" if self.span else ""
        name = self.sid if self.sid else f"#{self.index}"
        return f"{self.gate.value} policy `{self.policy}` statement {name} ({self.effect}){where}"


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    decided_by: Gate | None
    matched: tuple[StatementRef, ...] = ()
    deciding_keys: tuple[str, ...] = ()
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOWED

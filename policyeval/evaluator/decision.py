"""Decisions and their explanations."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from policyeval.compiler.gates import Gate, StatementRef

__all__ = ["Decision", "Gate", "Outcome", "StatementRef"]


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


class Decision(NamedTuple):
    """An answer and its explanation. A named tuple, not a frozen dataclass: the evaluator
    makes one per request, and a frozen dataclass costs three times as much to build."""

    outcome: Outcome
    decided_by: Gate | None
    matched: tuple[StatementRef, ...] = ()
    deciding_keys: tuple[str, ...] = ()
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOWED

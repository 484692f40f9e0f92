"""The evaluation gates and references to the statements that count in a decision.

They live with the compiler because compiled statements carry them; the evaluator's
`decision` module re-exports them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from policyeval.errors import Span


class Gate(StrEnum):
    """The policy types of AWS's evaluation logic, in the order the engine applies them."""

    SCP = "scp"
    RCP = "rcp"
    RESOURCE = "resource"
    IDENTITY = "identity"
    BOUNDARY = "boundary"
    SESSION = "session"


class StatementRef(NamedTuple):
    """Where a statement that counted comes from: gate, policy, Sid or index, position.

    A named tuple: the compiler makes one per statement, and the batch mode compiles a
    resource policy per case; a frozen dataclass costs several times as much to build."""

    gate: Gate
    policy: str
    index: int  # type: ignore[assignment]  # (shadows `tuple.index`, which nothing uses)
    sid: str | None
    effect: str
    span: Span | None = None

    def label(self) -> str:
        where = f" at {self.span}" if self.span else ""
        name = self.sid if self.sid else f"#{self.index}"
        return f"{self.gate.value} policy `{self.policy}` statement {name} ({self.effect}){where}"

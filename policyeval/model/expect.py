"""What a workload needs, what must hold, and which findings are knowingly accepted."""

from __future__ import annotations

from dataclasses import field

from pydantic import ConfigDict
from pydantic.dataclasses import dataclass

from policyeval.errors import Span

#: Validators are built on first use (`defer_build`): a pre-commit check of one policy file
#: never makes most of these nodes, and building them all costs a tenth of its start-up.
_FROZEN = ConfigDict(extra="forbid", arbitrary_types_allowed=True, defer_build=True)


@dataclass(frozen=True, config=_FROZEN)
class Need:
    """An action (pattern allowed) a workload needs on some resources (`*` when unsaid)."""

    action: str
    resources: tuple[str, ...] = ("*",)
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class Expectation:
    """`<subject> can|cannot <action> on <resource>`.

    `subject_kind` is one of `task`, `container`, `pod`, `function`, `agent`, `node`,
    `workload`; `subject_name` None means every workload of that kind.
    """

    subject_kind: str
    subject_name: str | None
    can: bool
    action: str
    resource: str = "*"
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class Suppression:
    """An accepted finding: a rule code, the workload it applies to (None = any), a reason."""

    code: str
    reason: str
    workload: str | None = None
    span: Span | None = field(default=None, compare=False, repr=False)

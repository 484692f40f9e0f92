"""An IAM request: who asks to do what on which resource, in which context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Request:
    """One request to decide.

    `context` maps condition keys (case as written by AWS; matched case-insensitively) to
    their values; a key that is absent is *missing*. Keys in `unknown_keys` have a value the
    caller does not know; with `context_complete=False` every absent key is unknown instead
    of missing. Unknown keys make the answer CONDITIONAL when they decide it.
    `resource_account` defaults to the account in the resource ARN, else the principal's.
    """

    principal: str
    action: str
    resource: str
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    resource_account: str | None = None
    unknown_keys: frozenset[str] = frozenset()
    context_complete: bool = True

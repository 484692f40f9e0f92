"""CompiledPolicySet: the policies of every gate, compiled once, serving many requests."""

from __future__ import annotations

from dataclasses import dataclass

from policyeval.model.policy import Policy


@dataclass(frozen=True, slots=True)
class PolicySet:
    """The policies that apply to one principal, by evaluation gate.

    `scps` / `rcps` are organisation levels, root first and account last; every level must
    allow. An empty tuple means no organisation policy applies.
    """

    identity: tuple[Policy, ...] = ()
    boundary: Policy | None = None
    session: Policy | None = None
    resource: Policy | None = None
    scps: tuple[tuple[Policy, ...], ...] = ()
    rcps: tuple[tuple[Policy, ...], ...] = ()

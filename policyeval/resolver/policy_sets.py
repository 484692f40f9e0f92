"""Which policies apply to a role, gate by gate: its identity policies (inline and attached,
AWS managed ones from the bundled data), its permissions boundary and the organisation's
SCPs and RCPs by level.

Kept apart from `effective` so that deciding single requests (the audit rules, a pre-commit
check of one policy) does not import the credential resolver.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from policyeval.model.policy import Policy
from policyeval.model.topology import ManagedPolicy, PolicyAttachment, Role
from policyeval.model.workspace import Workspace

if TYPE_CHECKING:
    from policyeval.compiler.compiled import PolicySet


def _aws_managed(name_or_arn: str) -> ManagedPolicy | None:
    """The bundled AWS managed policy, if the data module is present (imported lazily)."""
    try:
        from policyeval import managed  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    found = managed.managed_policy(name_or_arn)
    return found if isinstance(found, ManagedPolicy) else None


def _attached(ws: Workspace, attachment: PolicyAttachment) -> Policy | None:
    found = ws.find_policy(attachment.ref)
    if found is None and attachment.ref.startswith("arn:"):
        found = ws.find_policy(attachment.ref.rsplit("/", 1)[-1])
    if isinstance(found, ManagedPolicy):
        return found.document
    if isinstance(found, Policy):
        return found
    if attachment.aws_managed or attachment.ref.startswith("arn:aws:iam::aws:policy/"):
        bundled = _aws_managed(attachment.ref)
        if bundled is not None:
            return bundled.document
    return None


def policy_set_for(ws: Workspace, role: Role) -> tuple[PolicySet, tuple[str, ...]]:
    """The policies of every gate for a role, and notes on attachments that are missing."""
    from policyeval.compiler.compiled import PolicySet

    notes: list[str] = []
    identity: list[Policy] = list(role.inline)
    for attachment in role.managed:
        policy = _attached(ws, attachment)
        if policy is None:
            notes.append(
                f"policy `{attachment.ref}` attached to role `{role.name}` is not in the inputs: "
                "its grants are unknown"
            )
        else:
            identity.append(policy)
    boundary: Policy | None = None
    if role.boundary is not None:
        boundary = _attached(ws, role.boundary)
        if boundary is None:
            notes.append(
                f"permissions boundary `{role.boundary.ref}` of role `{role.name}` is not in the "
                "inputs: evaluated without it (may over-report)"
            )
    levels: dict[str, dict[int, list[Policy]]] = {
        "scp": defaultdict(list),
        "rcp": defaultdict(list),
    }
    for org in ws.org_policies:
        kind = org.kind.lower()
        if kind not in levels:
            continue
        found = ws.find_policy(org.policy)
        document = found.document if isinstance(found, ManagedPolicy) else found
        if document is None:
            notes.append(
                f"{kind.upper()} `{org.policy}` is not in the inputs: evaluated without it"
            )
            continue
        levels[kind][org.level].append(document)
    scps = tuple(tuple(levels["scp"][k]) for k in sorted(levels["scp"]))
    rcps = tuple(tuple(levels["rcp"][k]) for k in sorted(levels["rcp"]))
    return PolicySet(identity=tuple(identity), boundary=boundary, scps=scps, rcps=rcps), tuple(
        notes
    )

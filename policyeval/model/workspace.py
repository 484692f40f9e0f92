"""Everything loaded in one run, merged from every input.

Each reader returns a `Workspace` holding only what its file said; `merge` joins them.
Look-ups accept a name or an ARN, because inputs refer to roles both ways.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

from policyeval.errors import Diagnostic, SourceText
from policyeval.model.expect import Expectation, Need, Suppression
from policyeval.model.policy import Policy
from policyeval.model.topology import (
    EcrRepository,
    EcsCluster,
    EksCluster,
    Function,
    InstanceProfile,
    ManagedPolicy,
    NodeGroup,
    OrgPolicyAttachment,
    Pod,
    Ref,
    Role,
    Service,
    ServiceAccount,
    Task,
)

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Workspace:
    """The merged model of an estate. Tuples keep input order, so output is deterministic."""

    account: str | None = None
    policies: tuple[Policy, ...] = ()  # standalone documents (`.pel` policies, bare JSON files)
    managed_policies: tuple[ManagedPolicy, ...] = ()
    roles: tuple[Role, ...] = ()
    instance_profiles: tuple[InstanceProfile, ...] = ()
    ecs_clusters: tuple[EcsCluster, ...] = ()
    tasks: tuple[Task, ...] = ()
    services: tuple[Service, ...] = ()
    eks_clusters: tuple[EksCluster, ...] = ()
    node_groups: tuple[NodeGroup, ...] = ()
    service_accounts: tuple[ServiceAccount, ...] = ()
    pods: tuple[Pod, ...] = ()
    functions: tuple[Function, ...] = ()
    repositories: tuple[EcrRepository, ...] = ()
    org_policies: tuple[OrgPolicyAttachment, ...] = ()
    expectations: tuple[Expectation, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    imports: tuple[Ref, ...] = ()  # other input files named by `.pel` `import`, resolved paths
    diagnostics: tuple[Diagnostic, ...] = ()
    sources: SourceText = field(default_factory=SourceText, compare=False)
    #: Recorded usage (CloudTrail): principal ARN → the needs its successful calls show.
    recorded_usage: tuple[tuple[str, tuple[Need, ...]], ...] = ()
    #: Look-up indexes, built on first use. Not an init field: `replace()` and `merge()`
    #: give the new workspace empty indexes, so an index never outlives the tuples it was
    #: built from (every collection is an immutable tuple).
    _indexes: dict[str, Any] = field(
        default_factory=dict, init=False, compare=False, repr=False, hash=False
    )

    def merge(self, other: Workspace) -> Workspace:
        """Concatenate every collection; the first account seen wins."""
        changes: dict[str, object] = {}
        for f in fields(self):
            if not f.init:
                continue
            if f.name == "account":
                changes["account"] = self.account or other.account
            elif f.name == "sources":
                merged = SourceText(dict(self.sources.texts))
                merged.texts.update(other.sources.texts)
                changes["sources"] = merged
            else:
                changes[f.name] = getattr(self, f.name) + getattr(other, f.name)
        return replace(self, **changes)  # type: ignore[arg-type]

    # -- look-ups -----------------------------------------------------------------------

    def find_role(self, ref: Ref | str | None) -> Role | None:
        """A role by name or ARN; None when absent or unknown. The first role, in input
        order, whose ARN is the key or whose name is the key's name."""
        key = ref.value if isinstance(ref, Ref) else ref
        if not key:
            return None
        name = role_name_from_arn(key) if key.startswith("arn:") else key
        by_arn, by_name = self._index("roles", self.roles)
        role: Role | None = _first(self.roles, by_arn.get(key), by_name.get(name))
        return role

    def find_policy(self, ref: str) -> Policy | ManagedPolicy | None:
        """A standalone or managed policy by name or ARN (managed policies first, each
        collection in input order)."""
        by_arn, by_name = self._index("managed_policies", self.managed_policies)
        managed: ManagedPolicy | None = _first(
            self.managed_policies, by_arn.get(ref), by_name.get(ref)
        )
        if managed is not None:
            return managed
        _, policy_names = self._index("policies", self.policies)
        found = policy_names.get(ref)
        return self.policies[found] if found is not None else None

    def find_instance_profile(self, ref: Ref | str | None) -> InstanceProfile | None:
        key = ref.value if isinstance(ref, Ref) else ref
        if not key:
            return None
        name = key.rsplit("/", 1)[-1] if key.startswith("arn:") else key
        by_arn, by_name = self._index("instance_profiles", self.instance_profiles)
        profile: InstanceProfile | None = _first(
            self.instance_profiles, by_arn.get(key), by_name.get(name)
        )
        return profile

    def memo(self, name: str, build: Callable[[], _T]) -> _T:
        """Data derived from this workspace (an index), built by `build` on first use and
        kept with the workspace; `name` must say what is derived, and from what."""
        if name not in self._indexes:
            self._indexes[name] = build()
        found: _T = self._indexes[name]
        return found

    def _index(self, name: str, items: tuple[Any, ...]) -> tuple[dict[str, int], dict[str, int]]:
        """(ARN → first position, name → first position) over one collection, built once."""
        found: tuple[dict[str, int], dict[str, int]] | None = self._indexes.get(name)
        if found is None:
            by_arn: dict[str, int] = {}
            by_name: dict[str, int] = {}
            for position, item in enumerate(items):
                arn = getattr(item, "arn", None)
                if arn is not None:
                    by_arn.setdefault(arn, position)
                by_name.setdefault(item.name, position)
            found = (by_arn, by_name)
            self._indexes[name] = found
        return found


def _first(items: tuple[Any, ...], *positions: int | None) -> Any:
    """The item at the smallest of the positions given (None: not found)."""
    known = [p for p in positions if p is not None]
    return items[min(known)] if known else None


def role_name_from_arn(arn: str) -> str:
    """`arn:aws:iam::1:role/path/name` → `name` (IAM role names are the last path segment)."""
    resource = arn.split(":", 5)[-1]
    return resource.rsplit("/", 1)[-1]

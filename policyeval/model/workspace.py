"""Everything loaded in one run, merged from every input.

Each reader returns a `Workspace` holding only what its file said; `merge` joins them.
Look-ups accept a name or an ARN, because inputs refer to roles both ways.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

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

    def merge(self, other: Workspace) -> Workspace:
        """Concatenate every collection; the first account seen wins."""
        changes: dict[str, object] = {}
        for f in fields(self):
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
        """A role by name or ARN; None when absent or unknown."""
        key = ref.value if isinstance(ref, Ref) else ref
        if not key:
            return None
        name = role_name_from_arn(key) if key.startswith("arn:") else key
        for role in self.roles:
            if role.arn == key or role.name == name:
                return role
        return None

    def find_policy(self, ref: str) -> Policy | ManagedPolicy | None:
        """A standalone or managed policy by name or ARN."""
        for managed in self.managed_policies:
            if ref in (managed.arn, managed.name):
                return managed
        for policy in self.policies:
            if policy.name == ref:
                return policy
        return None

    def find_instance_profile(self, ref: Ref | str | None) -> InstanceProfile | None:
        key = ref.value if isinstance(ref, Ref) else ref
        if not key:
            return None
        name = key.rsplit("/", 1)[-1] if key.startswith("arn:") else key
        for profile in self.instance_profiles:
            if profile.arn == key or profile.name == name:
                return profile
        return None


def role_name_from_arn(arn: str) -> str:
    """`arn:aws:iam::1:role/path/name` → `name` (IAM role names are the last path segment)."""
    resource = arn.split(":", 5)[-1]
    return resource.rsplit("/", 1)[-1]

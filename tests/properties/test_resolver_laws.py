"""Laws of the resolver: controls only remove credentials, Denies only remove permissions.

A blocking control (IMDSv2 required with hop limit 1, ECS_AWSVPC_BLOCK_IMDS, an iptables
block, HttpEndpoint disabled, network mode none) never makes a credential reachable that was
not (ECS Developer Guide "Task IAM role"; EKS Best Practices "Restrict access to the
instance profile"). An explicit Deny never adds an allowed action (IAM User Guide, "Policy
evaluation logic": an explicit deny in any policy overrides any allow).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policyeval.model.topology import (
    HostMount,
    HostSettings,
    LaunchType,
    MetadataOptions,
    NodeGroupKind,
)
from policyeval.model.workspace import Workspace
from policyeval.resolver.credentials import resolve_credentials
from policyeval.resolver.effective import effective_permissions
from tests.resolver_fixtures import ROLES, allow, deny, ecs_workspace, eks_workspace, role

metadata = st.one_of(
    st.none(),
    st.builds(
        MetadataOptions,
        http_endpoint=st.sampled_from([None, "enabled", "disabled"]),
        http_tokens=st.sampled_from([None, "optional", "required"]),
        hop_limit=st.one_of(st.none(), st.integers(1, 4)),
    ),
)
hosts = st.one_of(
    st.none(),
    st.builds(
        HostSettings,
        agent=st.sampled_from([(), (("ECS_AWSVPC_BLOCK_IMDS", "false"),)]),
        iptables_blocks_imds=st.sampled_from([None, False]),
    ),
)
mounts = st.lists(
    st.sampled_from(
        [
            HostMount("/var/log"),
            HostMount("/var/run/docker.sock"),
            HostMount("/"),
            HostMount("/root/.aws"),
        ]
    ),
    max_size=2,
).map(tuple)
networks = st.sampled_from([None, "bridge", "host", "awsvpc", "none"])


def reachable_set(ws: Workspace) -> set[tuple[str, str, str | None, str | None]]:
    return {
        (w.id, c.source.value, c.role, c.via)
        for w in resolve_credentials(ws)
        for c in w.credentials
        if c.exposed
    }


def _block(
    md: MetadataOptions | None, host: HostSettings | None, control: str
) -> dict[str, object]:
    """The settings after adding one blocking control."""
    base = md or MetadataOptions()
    host = host or HostSettings()
    if control == "hop1":
        return {"metadata": replace(base, http_tokens="required", hop_limit=1), "host": host}
    if control == "disabled":
        return {"metadata": replace(base, http_endpoint="disabled"), "host": host}
    if control == "iptables":
        return {"metadata": md, "host": replace(host, iptables_blocks_imds=True)}
    agent = tuple(kv for kv in host.agent if kv[0] != "ECS_AWSVPC_BLOCK_IMDS")
    return {
        "metadata": md,
        "host": replace(host, agent=(*agent, ("ECS_AWSVPC_BLOCK_IMDS", "true"))),
    }


@pytest.mark.parametrize(
    "control", ["hop1", "disabled", "iptables", "awsvpc-block", "network-none"]
)
@given(
    md=metadata,
    host=hosts,
    network=networks,
    privileged=st.booleans(),
    task_mounts=mounts,
    launch=st.sampled_from(
        [LaunchType.EC2, LaunchType.EC2, LaunchType.EXTERNAL, LaunchType.FARGATE]
    ),
    has_task_role=st.booleans(),
)
def test_adding_an_ecs_blocking_control_never_adds_reachable_credentials(
    control: str,
    md: MetadataOptions | None,
    host: HostSettings | None,
    network: str | None,
    privileged: bool,
    task_mounts: tuple[HostMount, ...],
    launch: LaunchType,
    has_task_role: bool,
) -> None:
    common: dict[str, object] = {
        "launch": launch,
        "privileged": privileged,
        "mounts": task_mounts,
        "task_role": "task" if has_task_role else None,
    }
    before = ecs_workspace(metadata=md, host=host, network=network, **common)  # type: ignore[arg-type]
    if control == "network-none":
        after = ecs_workspace(metadata=md, host=host, network="none", **common)  # type: ignore[arg-type]
    else:
        after = ecs_workspace(network=network, **_block(md, host, control), **common)  # type: ignore[arg-type]
    assert reachable_set(after) <= reachable_set(before)


@pytest.mark.parametrize("control", ["hop1", "disabled", "iptables"])
@given(
    md=metadata,
    host=hosts,
    host_network=st.booleans(),
    privileged=st.booleans(),
    kind=st.sampled_from(
        [NodeGroupKind.MANAGED, NodeGroupKind.SELF_MANAGED, NodeGroupKind.FARGATE]
    ),
)
def test_adding_an_eks_blocking_control_never_adds_reachable_credentials(
    control: str,
    md: MetadataOptions | None,
    host: HostSettings | None,
    host_network: bool,
    privileged: bool,
    kind: NodeGroupKind,
) -> None:
    common: dict[str, object] = {
        "host_network": host_network,
        "privileged": privileged,
        "kind": kind,
        "irsa": "irsa",
    }
    before = eks_workspace(metadata=md, host=host, **common)  # type: ignore[arg-type]
    after = eks_workspace(**_block(md, host, control), **common)  # type: ignore[arg-type]
    assert reachable_set(after) <= reachable_set(before)


ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:Get*",
    "sqs:*",
    "iam:PassRole",
    "ec2:Describe*",
    "kms:Decrypt",
]
RESOURCES = [
    "*",
    "arn:aws:s3:::shop/*",
    "arn:aws:s3:::shop/secret/*",
    "arn:aws:sqs:us-east-1:111122223333:q",
]
statements = st.builds(
    allow,
    st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3),
    st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2),
)
denies = st.builds(
    deny,
    st.lists(st.sampled_from([*ACTIONS, "*", "s3:*"]), min_size=1, max_size=2),
    st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2),
)


def allowed_set(ws: Workspace) -> set[tuple[str, str, str, str, str | None]]:
    return {
        (w.id, g.action, g.resource, g.source.value, g.role)
        for w in effective_permissions(ws).workloads
        for g in w.allowed
    }


@given(
    grants=st.lists(statements, min_size=1, max_size=3),
    extra=denies,
    where=st.sampled_from(["task", "host"]),
)
def test_adding_a_deny_never_adds_effective_permissions(
    grants: list, extra: object, where: str
) -> None:  # type: ignore[type-arg]
    others = tuple(r for r in ROLES if r.name not in ("task", "host"))
    plain = (role("task", *grants), role("host", allow(["ecs:Poll", "s3:GetObject"])), *others)
    if where == "task":
        denied = (role("task", *grants, extra), plain[1], *others)  # type: ignore[arg-type]
    else:
        denied = (plain[0], role("host", allow(["ecs:Poll", "s3:GetObject"]), extra), *others)  # type: ignore[arg-type]
    before = allowed_set(ecs_workspace(roles=plain))
    after = allowed_set(ecs_workspace(roles=denied))
    assert after <= before


@given(
    grants=st.lists(statements, min_size=1, max_size=3),
    extra=st.lists(denies, max_size=2),
    scp=st.lists(denies, max_size=1),
)
def test_grouping_actions_by_matching_statements_agrees_with_asking_per_action(
    grants: list,
    extra: list,
    scp: list,  # type: ignore[type-arg]
) -> None:
    """The per-class memo of effective.py (actions matched by the same statements share a
    decision) must give exactly what asking the evaluator about every action gives."""
    from tests.resolver_fixtures import with_scp

    others = tuple(r for r in ROLES if r.name != "task")
    ws = ecs_workspace(roles=(role("task", *grants, *extra), *others))
    if scp:
        ws = with_scp(ws, *scp)
    assert effective_permissions(ws).to_dict() == effective_permissions(ws, exact=True).to_dict()

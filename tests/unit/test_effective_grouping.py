"""The grouped effective-permission path on the cases the property tests leave out (an Allow
of every action, NotAction Allows), the bulk Grant constructor, and repeated resources."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

from policyeval.catalog import AccessLevel
from policyeval.model.policy import Condition, Effect, Policy, Statement
from policyeval.model.topology import OrgPolicyAttachment
from policyeval.model.workspace import Workspace
from policyeval.resolver.credentials import SourceKind
from policyeval.resolver.effective import Grant, _build_grant, effective_permissions
from tests.resolver_fixtures import ROLES, allow, deny, ecs_workspace, role

REGION = Condition("StringEquals", "aws:RequestedRegion", ("us-east-1",))


def test_the_bulk_constructor_builds_the_same_grant_as_the_dataclass() -> None:
    values = (
        "s3:GetObject",
        "arn:aws:s3:::shop/*",
        SourceKind.TASK_ROLE,
        "task",
        "s3",
        AccessLevel.READ,
        True,
        ("aws:RequestedRegion",),
    )
    built = _build_grant(*values)
    plain = Grant(*values)
    assert type(built) is Grant
    assert built == plain and hash(built) == hash(plain) and repr(built) == repr(plain)
    # Every field is set: a field added to Grant must be added to the constructor too.
    assert [f.name for f in fields(Grant)] == [
        "action",
        "resource",
        "source",
        "role",
        "service",
        "access_level",
        "conditional",
        "keys",
    ]
    assert [getattr(built, f.name) for f in fields(Grant)] == list(values)


def _with_task(*statements: Statement, rcp: tuple[Statement, ...] = ()) -> Workspace:
    ws = ecs_workspace(roles=(role("task", *statements), *(r for r in ROLES if r.name != "task")))
    if not rcp:
        return ws
    every = Policy(
        name="rcp-all",
        statements=(Statement(effect=Effect.ALLOW, action=("*",), resource=("*",)),),
    )
    guard = Policy(name="rcp-guard", statements=rcp)
    return replace(
        ws,
        policies=(*ws.policies, every, guard),
        org_policies=(
            OrgPolicyAttachment(kind="rcp", level=0, policy="rcp-all"),
            OrgPolicyAttachment(kind="rcp", level=0, policy="rcp-guard"),
        ),
    )


@pytest.mark.parametrize(
    "ws",
    [
        _with_task(
            allow(["*"], ["*", "arn:aws:s3:::shop/*"]),
            allow(["s3:Get*"], ["arn:aws:s3:::shop/*"], (REGION,)),
            deny(["iam:*", "s3:DeleteObject"]),
        ),
        _with_task(
            allow(["*"]),
            rcp=(
                Statement(effect=Effect.DENY, action=("*",), resource=("*",), condition=(REGION,)),
            ),
        ),
        _with_task(
            Statement(effect=Effect.ALLOW, not_action=("iam:*", "s3:Get*"), resource=("*",)),
            allow(["iam:PassRole"], ["arn:aws:iam::111122223333:role/x"] * 2),
        ),
    ],
    ids=["allow-everything", "rcp-scope", "not-action-allow"],
)
def test_every_action_allowed_agrees_with_asking_per_action(ws: Workspace) -> None:
    fast = effective_permissions(ws)
    assert fast.to_dict() == effective_permissions(ws, exact=True).to_dict()
    web = fast.workload("web")
    assert web is not None and len(web.allowed) > 10_000


def test_rcps_limit_only_the_services_they_apply_to() -> None:
    ws = _with_task(
        allow(["*"]),
        rcp=(Statement(effect=Effect.DENY, action=("*",), resource=("*",), condition=(REGION,)),),
    )
    web = effective_permissions(ws).workload("web")
    assert web is not None
    by_action = {g.action: g for g in web.allowed}
    assert by_action["s3:GetObject"].conditional  # s3 is in the RCPs' scope
    assert by_action["s3:GetObject"].keys == ("aws:RequestedRegion",)
    assert not by_action["ec2:DescribeInstances"].conditional  # ec2 is not


def test_a_resource_repeated_in_one_statement_is_reported_as_written() -> None:
    twice = ["arn:aws:s3:::shop/*", "arn:aws:s3:::shop/*"]
    web = effective_permissions(_with_task(allow(["s3:GetObject"], twice))).workload("web")
    assert web is not None
    task = [g for g in web.allowed if g.source is SourceKind.TASK_ROLE]
    assert [(g.action, g.resource) for g in task] == [("s3:GetObject", twice[0])] * 2
    # Merged with another statement's list, repeats go.
    merged = _with_task(allow(["s3:GetObject"], twice), allow(["s3:Get*"], ["*"], (REGION,)))
    web = effective_permissions(merged).workload("web")
    assert web is not None
    got = [
        g.resource
        for g in web.allowed
        if g.source is SourceKind.TASK_ROLE and g.action == "s3:GetObject"
    ]
    assert got == ["*", "arn:aws:s3:::shop/*"]

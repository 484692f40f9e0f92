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
from policyeval.resolver.effective import (
    _GRANT_SETTERS,
    Grant,
    _Columns,
    _grants_of,
    effective_permissions,
)
from tests.resolver_fixtures import ROLES, allow, deny, ecs_workspace, role

REGION = Condition("StringEquals", "aws:RequestedRegion", ("us-east-1",))


def test_the_bulk_constructor_builds_the_same_grants_as_the_dataclass() -> None:
    rows = [
        ("s3:GetObject", "arn:aws:s3:::shop/*", "s3", AccessLevel.READ, True, ("aws:SourceIp",)),
        ("s3:ListBucket", "*", "s3", AccessLevel.LIST, False, ()),
        ("iam:PassRole", "*", "iam", AccessLevel.WRITE, False, ()),
    ]
    columns = _Columns(
        actions=tuple(r[0] for r in rows),
        resources=tuple(r[1] for r in rows),
        services=tuple(r[2] for r in rows),
        levels=tuple(r[3] for r in rows),
        conditional=tuple(r[4] for r in rows),
        keys=tuple(r[5] for r in rows),
    )
    built = _grants_of(columns, SourceKind.TASK_ROLE, "task")
    plain = tuple(
        Grant(action, resource, SourceKind.TASK_ROLE, "task", service, level, cond, keys)
        for action, resource, service, level, cond, keys in rows
    )
    assert all(type(grant) is Grant for grant in built)
    assert built == plain
    assert [hash(g) for g in built] == [hash(g) for g in plain]
    assert [repr(g) for g in built] == [repr(g) for g in plain]
    # Every field is set, in field order: a field added to Grant must be added there too.
    assert len(fields(Grant)) == len(_GRANT_SETTERS)
    for field, setter in zip(fields(Grant), _GRANT_SETTERS, strict=True):
        assert setter.__self__ is Grant.__dict__[field.name]
    assert _grants_of(_Columns(), SourceKind.TASK_ROLE, None) == ()


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

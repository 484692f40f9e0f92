"""The grouped effective-permission path (`_by_class`) against the per-action one
(`_one_by_one`, `exact=True`): the same report, byte for byte, for policy sets with
boundaries, SCPs and RCPs (whose scope is a list of services), NotAction, NotResource,
wildcards in the service part, repeated resources and unknown actions."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from policyeval.model.policy import Condition, Effect, Policy, Statement
from policyeval.model.topology import OrgPolicyAttachment, PolicyAttachment
from policyeval.model.workspace import Workspace
from policyeval.resolver.effective import effective_permissions
from tests.resolver_fixtures import ROLES, ecs_workspace, role

ACTIONS = [
    "s3:GetObject",
    "s3:Get*",
    "s3:*",
    "s3*:List*",
    "kms:Decrypt",
    "kms:*",
    "sqs:Send*",
    "sts:AssumeRole",
    "iam:PassRole",
    "iam:Get*",
    "ec?:DescribeTags",
    "ecs:Poll",
    "codecommit:GitPull",
    "nosuch:Thing",
    "s3:NoSuchAction",
]
RESOURCES = [
    "*",
    "arn:aws:s3:::shop/*",
    "arn:aws:s3:::shop/secret/*",
    "arn:aws:kms:*:*:key/*",
    "arn:aws:s3:::home-${aws:username}/*",
    "arn:aws:iam::444455556666:role/other",
]
CONDITIONS = [
    Condition("StringEquals", "aws:RequestedRegion", ("us-east-1",)),
    Condition("Bool", "aws:SecureTransport", ("true",)),
    Condition("StringEquals", "aws:PrincipalTag/team", ("shop",)),
]


@st.composite
def statements(
    draw: st.DrawFn, effects: tuple[Effect, ...] = (Effect.ALLOW, Effect.DENY)
) -> Statement:
    """An Allow or Deny statement. Only Deny statements use `*` or NotAction: an Allow of
    every action makes `exact=True` ask about 22,000 actions (tested once, in the unit
    tests), while a Deny of `*` under a condition is what tells RCP services apart."""
    effect = draw(st.sampled_from(effects))
    deny = effect is Effect.DENY
    choices = [*ACTIONS, "*"] if deny else ACTIONS
    actions = tuple(draw(st.lists(st.sampled_from(choices), min_size=1, max_size=3)))
    resources = tuple(draw(st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=3)))
    condition = tuple(draw(st.lists(st.sampled_from(CONDITIONS), max_size=1)))
    negate_action = deny and draw(st.booleans())
    negate_resource = draw(st.booleans()) and draw(st.booleans())
    return Statement(
        effect=effect,
        action=None if negate_action else actions,
        not_action=actions if negate_action else None,
        resource=None if negate_resource else resources,
        not_resource=resources if negate_resource else None,
        condition=condition,
    )


def _policy(name: str, *body: Statement) -> Policy:
    return Policy(name=name, statements=body)


def _workspace(
    grants: list[Statement],
    boundary: list[Statement],
    scp: list[Statement],
    rcp: list[Statement],
) -> Workspace:
    kwargs = {"boundary": PolicyAttachment(ref="edge")} if boundary else {}
    task = role("task", *grants, **kwargs)  # type: ignore[arg-type]
    ws = ecs_workspace(roles=(task, *(r for r in ROLES if r.name != "task")))
    every = Statement(effect=Effect.ALLOW, action=("*",), resource=("*",))
    policies: list[Policy] = []
    attached: list[OrgPolicyAttachment] = []
    if boundary:
        policies.append(_policy("edge", *boundary))
    if scp:
        policies += [_policy("scp-all", every), _policy("scp-guard", *scp)]
        attached += [
            OrgPolicyAttachment(kind="scp", level=0, policy="scp-all"),
            OrgPolicyAttachment(kind="scp", level=0, policy="scp-guard"),
        ]
    if rcp:
        policies += [_policy("rcp-all", every), _policy("rcp-guard", *rcp)]
        attached += [
            OrgPolicyAttachment(kind="rcp", level=0, policy="rcp-all"),
            OrgPolicyAttachment(kind="rcp", level=0, policy="rcp-guard"),
        ]
    return replace(
        ws,
        policies=(*ws.policies, *policies),
        org_policies=(*ws.org_policies, *attached),
    )


@given(
    grants=st.lists(statements(), min_size=1, max_size=4),
    boundary=st.lists(statements(), max_size=2),
    scp=st.lists(statements((Effect.DENY,)), max_size=1),
    rcp=st.lists(statements((Effect.DENY,)), max_size=2),
)
def test_grouped_actions_agree_with_asking_per_action(
    grants: list[Statement],
    boundary: list[Statement],
    scp: list[Statement],
    rcp: list[Statement],
) -> None:
    ws = _workspace(grants, boundary, scp, rcp)
    assert effective_permissions(ws).to_dict() == effective_permissions(ws, exact=True).to_dict()

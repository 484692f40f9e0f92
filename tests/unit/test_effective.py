"""Effective permissions: the union over reachable sources, each evaluated on its own.

IAM User Guide, "Policy evaluation logic"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
an explicit Deny wins, a permissions boundary and every SCP level cap identity grants.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from policyeval.catalog import AccessLevel
from policyeval.errors import PolicyevalError
from policyeval.model.policy import Condition
from policyeval.model.topology import MetadataOptions, PolicyAttachment, Role
from policyeval.resolver.credentials import SourceKind
from policyeval.resolver.effective import EffectiveReport, Grant, effective_permissions
from tests.resolver_fixtures import (
    ROLES,
    allow,
    arn,
    boundary_role,
    deny,
    ecs_workspace,
    eks_workspace,
    lambda_workspace,
    policy,
    role,
    with_scp,
)

V2_HOP1 = MetadataOptions(http_endpoint="enabled", http_tokens="required", hop_limit=1)


def roles_with(*extra: Role) -> tuple[Role, ...]:
    names = {r.name for r in extra}
    return tuple(r for r in ROLES if r.name not in names) + extra


def grants(report: EffectiveReport, workload_id: str) -> dict[tuple[str, str], Grant]:
    w = report.workload(workload_id)
    assert w is not None
    return {(g.action, g.resource): g for g in w.allowed}


def test_task_gets_its_task_role_and_the_reachable_instance_profile_each_attributed() -> None:
    found = grants(effective_permissions(ecs_workspace()), "web")
    obj = found[("s3:GetObject", "arn:aws:s3:::shop-assets/*")]
    assert obj.source is SourceKind.TASK_ROLE
    assert obj.role == arn("task")
    assert obj.access_level is AccessLevel.READ
    assert obj.service == "s3"
    poll = found[("ecs:Poll", "*")]
    assert poll.source is SourceKind.INSTANCE_PROFILE
    assert poll.role == arn("host")


def test_execution_role_grants_go_to_the_agent_not_the_app() -> None:
    report = effective_permissions(ecs_workspace())
    assert ("secretsmanager:GetSecretValue", "*") not in grants(report, "web")
    assert ("secretsmanager:GetSecretValue", "*") not in grants(report, "web/app")
    agent = grants(report, "agent:shop/pool")
    assert agent[("secretsmanager:GetSecretValue", "*")].source is SourceKind.EXECUTION_ROLE


def test_blocked_imds_removes_the_instance_profile_grants() -> None:
    found = grants(effective_permissions(ecs_workspace(metadata=V2_HOP1)), "web")
    assert ("ecs:Poll", "*") not in found
    assert ("s3:GetObject", "arn:aws:s3:::shop-assets/*") in found


def test_wildcard_actions_expand_to_concrete_catalog_actions() -> None:
    ws = ecs_workspace(roles=roles_with(role("task", allow(["s3:Get*"], ["arn:aws:s3:::b/*"]))))
    found = grants(effective_permissions(ws), "web")
    s3 = {a for (a, r) in found if a.startswith("s3:")}
    assert {"s3:GetObject", "s3:GetObjectTagging", "s3:GetBucketPolicy"} <= s3
    assert "s3:PutObject" not in s3
    assert all(a.startswith("s3:Get") for a in s3)


def test_identity_deny_removes_the_matching_grants() -> None:
    task = role("task", allow(["s3:Get*"], ["*"]), deny(["s3:GetObject*"]))
    found = grants(
        effective_permissions(ecs_workspace(roles=roles_with(task), metadata=V2_HOP1)), "web"
    )
    assert ("s3:GetBucketPolicy", "*") in found
    assert not any(a.startswith("s3:GetObject") for a, _ in found)


def test_permissions_boundary_caps_the_role() -> None:
    task = boundary_role("task", "only-s3", allow(["s3:GetObject", "sqs:SendMessage"]))
    ws = ecs_workspace(roles=roles_with(task), metadata=V2_HOP1)
    ws = replace(ws, policies=(policy("only-s3", allow(["s3:*"])),))
    found = grants(effective_permissions(ws), "web")
    assert ("s3:GetObject", "*") in found
    assert ("sqs:SendMessage", "*") not in found


def test_scp_deny_removes_grants_of_every_source() -> None:
    ws = with_scp(ecs_workspace(), deny(["ecs:Poll", "s3:GetObject"]))
    found = grants(effective_permissions(ws), "web")
    assert ("ecs:Poll", "*") not in found
    assert ("s3:GetObject", "arn:aws:s3:::shop-assets/*") not in found
    assert ("ec2:DescribeTags", "*") in found


def test_condition_on_unknown_context_marks_the_grant_conditional_with_its_keys() -> None:
    cond = (Condition("IpAddress", "aws:SourceIp", ("10.0.0.0/8",)),)
    task = role("task", allow(["sqs:SendMessage"], conditions=cond))
    found = grants(effective_permissions(ecs_workspace(roles=roles_with(task))), "web")
    grant = found[("sqs:SendMessage", "*")]
    assert grant.conditional is True
    assert grant.keys == ("aws:SourceIp",)
    assert found[("ecs:Poll", "*")].conditional is False


def test_known_principal_context_decides_conditions_on_the_role_itself() -> None:
    cond = (Condition("StringEquals", "aws:PrincipalTag/team", ("shop",)),)
    task = role("task", allow(["sqs:SendMessage"], conditions=cond), tags=(("team", "shop"),))
    found = grants(effective_permissions(ecs_workspace(roles=roles_with(task))), "web")
    assert found[("sqs:SendMessage", "*")].conditional is False


def test_unknown_actions_and_services_are_reported_not_dropped() -> None:
    task = role("task", allow(["newsvc:DoThing", "s3:NoSuchAction", "s3:GetObject"]))
    w = effective_permissions(ecs_workspace(roles=roles_with(task))).workload("web")
    assert w is not None
    unknown = {u.action: u for u in w.unknown_actions}
    assert set(unknown) == {"newsvc:DoThing", "s3:NoSuchAction"}
    assert unknown["newsvc:DoThing"].outcome == "allowed"
    assert unknown["newsvc:DoThing"].source is SourceKind.TASK_ROLE
    assert "not in the action catalog" in unknown["newsvc:DoThing"].reason


def test_unknown_action_denied_by_an_scp_says_so() -> None:
    task = role("task", allow(["newsvc:DoThing"]))
    ws = with_scp(ecs_workspace(roles=roles_with(task)), deny(["newsvc:*"]))
    w = effective_permissions(ws).workload("web")
    assert w is not None
    assert [u.outcome for u in w.unknown_actions] == ["denied"]


def test_not_action_allow_grants_everything_else() -> None:
    from policyeval.model.policy import Effect, Statement

    broad = Statement(effect=Effect.ALLOW, not_action=("iam:*",), resource=("*",))
    task = Role(name="task", arn=arn("task"), inline=(policy("broad", broad),))
    found = grants(
        effective_permissions(ecs_workspace(roles=roles_with(task), metadata=V2_HOP1)), "web"
    )
    assert ("s3:DeleteBucket", "*") in found
    assert not any(a.startswith("iam:") for a, _ in found)


def test_missing_attached_policy_is_noted() -> None:
    task = Role(name="task", arn=arn("task"), managed=(PolicyAttachment(ref="ghost-policy"),))
    w = effective_permissions(ecs_workspace(roles=roles_with(task))).workload("web")
    assert w is not None
    assert any("`ghost-policy`" in note for note in w.notes)


def test_unresolved_reachable_role_is_noted_as_unknown_permissions() -> None:
    w = effective_permissions(ecs_workspace(task_role="ghost")).workload("web")
    assert w is not None
    assert any("`ghost` is unresolved" in note for note in w.notes)


def test_pod_union_of_irsa_and_node_role() -> None:
    report = effective_permissions(eks_workspace(irsa="irsa"))
    found = grants(report, "shop/web")
    assert found[("dynamodb:GetItem", "*")].source is SourceKind.IRSA
    assert found[("ec2:DescribeInstances", "*")].source is SourceKind.NODE_ROLE


def test_lambda_function_gets_its_execution_role() -> None:
    found = grants(effective_permissions(lambda_workspace()), "nightly")
    assert set(found) == {("logs:PutLogEvents", "*")}
    assert found[("logs:PutLogEvents", "*")].source is SourceKind.LAMBDA_EXECUTION_ROLE


def test_workload_filter_and_unknown_workload_is_a_usage_error() -> None:
    report = effective_permissions(ecs_workspace(), "web/app")
    assert [w.id for w in report.workloads] == ["web/app"]
    with pytest.raises(PolicyevalError) as info:
        effective_permissions(ecs_workspace(), "nope")
    assert "`nope`" in str(info.value)


def test_json_shape_has_the_documented_fields() -> None:
    data = effective_permissions(ecs_workspace()).to_dict()
    assert data["schema_version"] == "1"
    w = data["workloads"][0]
    assert {"id", "kind", "platform", "credentials", "allowed", "unknown_actions"} <= set(w)
    assert {"source", "role", "reachable", "reason"} <= set(w["credentials"][0])
    assert {"action", "resource", "source", "conditional", "keys"} <= set(w["allowed"][0])


def test_grants_are_grouped_by_service_and_access_level() -> None:
    w = effective_permissions(ecs_workspace()).workload("web")
    assert w is not None
    grouped = w.by_service()
    assert [g.action for g in grouped["ecs"][AccessLevel.WRITE]] == ["ecs:Poll"]
    assert [g.action for g in grouped["ec2"][AccessLevel.LIST]] == ["ec2:DescribeTags"]


def test_aws_managed_policy_from_bundled_data_and_wildcard_account_resources() -> None:
    """`AmazonEC2ContainerServiceforEC2Role` is not in the workspace: the bundled copy is
    used. Its `ecs:ListTagsForResource` on `arn:aws:ecs:*:*:task/*/*` leaves the account open,
    which must not be read as another account; `ecs:TagResource` hangs on `ecs:CreateAction`."""
    host = Role(
        name="host",
        arn=arn("host"),
        managed=(PolicyAttachment(ref="AmazonEC2ContainerServiceforEC2Role", aws_managed=True),),
    )
    found = grants(effective_permissions(ecs_workspace(roles=roles_with(host))), "web")
    assert found[("ecs:RegisterContainerInstance", "*")].source is SourceKind.INSTANCE_PROFILE
    assert ("ecs:ListTagsForResource", "arn:aws:ecs:*:*:task/*/*") in found
    tag = found[("ecs:TagResource", "*")]
    assert tag.conditional is True
    assert tag.keys == ("ecs:CreateAction",)

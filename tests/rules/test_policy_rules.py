"""PE1xx rules, checked against the real evaluator (IAM User Guide, evaluation logic:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)."""

from __future__ import annotations

from policyeval.errors import Severity
from policyeval.model.policy import Effect, Principal, Statement
from policyeval.model.policy import Policy as PolicyModel
from policyeval.model.topology import EcrRepository, PolicyAttachment, Role
from policyeval.model.workspace import Workspace
from tests.rules.build import ACCOUNT, allow, audit, deny, policy


def role_ws(
    *statements: dict[str, object], boundary: list[dict[str, object]] | None = None
) -> Workspace:
    inline = policy("app", *statements)
    policies: tuple[PolicyModel, ...] = ()
    attachment = None
    if boundary is not None:
        policies = (policy("cap", *boundary),)
        attachment = PolicyAttachment("cap")
    role = Role(name="app", inline=(inline,), boundary=attachment)
    return Workspace(account=ACCOUNT, roles=(role,), policies=policies)


def test_star_star_is_full_admin_critical() -> None:
    result = audit(role_ws(allow("*")), "PE101")
    assert [(f.code, f.severity, f.key) for f in result.findings] == [
        ("PE101", Severity.CRITICAL, "*:*")
    ]
    assert result.findings[0].span is not None
    assert result.findings[0].span.path == "policies/app.json"


def test_service_star_reports_the_service() -> None:
    result = audit(role_ws(allow("s3:*")), "PE101")
    assert [f.key for f in result.findings] == ["s3:*"]


def test_admin_removed_by_deny_everything_is_not_reported() -> None:
    result = audit(role_ws(allow("*"), deny("*")), "PE101")
    assert result.findings == ()


def test_admin_under_a_condition_is_not_full_admin() -> None:
    stmt = allow("*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    assert audit(role_ws(stmt), "PE101").findings == ()


def test_passrole_on_star_with_runtask_is_escalation() -> None:
    result = audit(role_ws(allow(["iam:PassRole", "ecs:RunTask"])), "PE102")
    passrole = [f for f in result.findings if f.key == "iam:PassRole"]
    assert len(passrole) == 1
    assert passrole[0].severity is Severity.HIGH
    assert "`ecs:RunTask`" in passrole[0].message


def test_passrole_with_passed_to_service_condition_is_not_reported() -> None:
    stmt = allow(
        "iam:PassRole",
        Condition={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
    )
    assert audit(role_ws(stmt, allow("ecs:RunTask")), "PE102").findings == ()


def test_passrole_on_named_role_is_not_reported() -> None:
    stmt = allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/worker")
    assert audit(role_ws(stmt, allow("ecs:RunTask")), "PE102").findings == ()


def test_iam_escalation_action_removed_by_boundary_is_not_reported() -> None:
    ws = role_ws(allow("iam:*"), boundary=[allow("s3:GetObject")])
    assert audit(ws, "PE102").findings == ()


def test_create_policy_version_is_reported() -> None:
    result = audit(role_ws(allow("iam:CreatePolicyVersion")), "PE102")
    assert [f.key for f in result.findings] == ["iam-write"]
    assert "`iam:CreatePolicyVersion`" in result.findings[0].message


def test_get_secret_value_on_star_is_exfiltration() -> None:
    result = audit(role_ws(allow(["secretsmanager:GetSecretValue", "kms:Decrypt"])), "PE103")
    assert [f.key for f in result.findings] == ["read"]
    assert result.findings[0].notes == ("actions: secretsmanager:GetSecretValue, kms:Decrypt",)


def test_get_object_on_one_bucket_is_not_exfiltration() -> None:
    stmt = allow("s3:GetObject", "arn:aws:s3:::shop-assets/*")
    assert audit(role_ws(stmt), "PE103").findings == ()


def test_get_object_on_every_bucket_pattern_is_exfiltration() -> None:
    stmt = allow("s3:GetObject", "arn:aws:s3:::*/*")
    result = audit(role_ws(stmt), "PE103")
    assert [(f.key, f.notes) for f in result.findings] == [("read", ("actions: s3:GetObject",))]


def test_allow_with_not_action_is_reported_deny_is_not() -> None:
    ws = role_ws(
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"},
    )
    result = audit(ws, "PE104")
    assert len(result.findings) == 1
    assert "NotAction" in result.findings[0].message


def test_unknown_action_is_reported_with_catalog_note() -> None:
    result = audit(role_ws(allow("s3:GetObjects", "arn:aws:s3:::a/*")), "PE105")
    assert [f.key for f in result.findings] == ["s3:getobjects"]
    assert "older" in result.findings[0].notes[0]


def test_numeric_operator_on_source_ip_is_a_type_mismatch() -> None:
    stmt = deny("*", Condition={"NumericEquals": {"aws:SourceIp": "10"}})
    result = audit(role_ws(allow("s3:GetObject", "arn:aws:s3:::a/*"), stmt), "PE106")
    assert len(result.findings) == 1
    assert result.findings[0].severity is Severity.HIGH  # a Deny that never denies


def test_string_operator_on_current_time_is_a_type_mismatch() -> None:
    stmt = allow(
        "s3:GetObject", "arn:aws:s3:::a/*", Condition={"StringEquals": {"aws:CurrentTime": "x"}}
    )
    assert len(audit(role_ws(stmt), "PE106").findings) == 1


def test_fitting_operators_are_not_reported() -> None:
    stmt = allow(
        "s3:GetObject",
        "arn:aws:s3:::a/*",
        Condition={
            "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
            "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
        },
    )
    assert audit(role_ws(stmt), "PE106").findings == ()


def _trust(service: str, condition: dict[str, object] | None = None) -> PolicyModel:
    st: dict[str, object] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if condition:
        st["Condition"] = condition
    return policy("trust", st)


def test_ecs_tasks_trust_without_source_account_is_reported() -> None:
    ws = Workspace(roles=(Role(name="r", trust=_trust("ecs-tasks.amazonaws.com")),))
    assert [f.key for f in audit(ws, "PE107").findings] == ["ecs-tasks.amazonaws.com"]


def test_ecs_tasks_trust_with_source_account_is_not_reported() -> None:
    cond = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    ws = Workspace(roles=(Role(name="r", trust=_trust("ecs-tasks.amazonaws.com", cond)),))
    assert audit(ws, "PE107").findings == ()


def test_ec2_trust_is_never_flagged_for_source_conditions() -> None:
    ws = Workspace(roles=(Role(name="r", trust=_trust("ec2.amazonaws.com")),))
    assert audit(ws, "PE107").findings == ()


def _repo(principal: Principal, condition: dict[str, object] | None = None) -> Workspace:
    st: dict[str, object] = {"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}
    if condition:
        st["Condition"] = condition
    doc = policy("repo", st)
    del principal
    return Workspace(
        account=ACCOUNT, repositories=(EcrRepository(id="shop", name="shop", policy=doc),)
    )


def test_repository_open_to_everyone_is_reported() -> None:
    result = audit(_repo(Principal("*", "*")), "PE108")
    assert [f.key for f in result.findings] == ["ecr:BatchGetImage"]


def test_repository_open_to_org_only_is_not_reported() -> None:
    ws = _repo(Principal("*", "*"), {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})
    assert audit(ws, "PE108").findings == ()


def test_standalone_policy_file_is_audited_like_a_role() -> None:
    ws = Workspace(policies=(policy("loose", allow("*")),))
    assert [f.subject for f in audit(ws, "PE101").findings] == ["loose"]


def test_policy_model_is_unused_by_statement_helper() -> None:
    # keep the model import honest: a Statement built directly is audited too
    st = Statement(effect=Effect.ALLOW, action=("*",), resource=("*",))
    ws = Workspace(roles=(Role(name="r", inline=(PolicyModel(name="p", statements=(st,)),)),))
    assert [f.code for f in audit(ws, "PE101").findings] == ["PE101"]


def test_policies_of_one_name_in_different_files_are_audited_apart() -> None:
    """Two `policy.json` files in different folders are two principals: the audit caches
    its decisions per principal, not per name (a name-keyed cache reported only the first)."""
    first = policy("policy", allow("s3:GetObject"), path="a/policy.json")
    second = policy("policy", allow("secretsmanager:GetSecretValue"), path="b/policy.json")
    result = audit(Workspace(account=ACCOUNT, policies=(first, second)), "PE103")
    found = sorted((f.span.path if f.span else "", f.notes) for f in result.findings)
    assert found == [
        ("a/policy.json", ("actions: s3:GetObject",)),
        ("b/policy.json", ("actions: secretsmanager:GetSecretValue",)),
    ]


def test_roles_of_one_name_in_different_inputs_are_audited_apart() -> None:
    secret = "arn:aws:secretsmanager:us-east-1:111122223333:secret:orders-db"
    read = "secretsmanager:GetSecretValue"
    wide = Role(name="app", inline=(policy("wide", allow(read), path="one/app.json"),))
    narrow = Role(name="app", inline=(policy("narrow", allow(read, secret), path="two/app.json"),))
    result = audit(Workspace(account=ACCOUNT, roles=(narrow, wide)), "PE103")
    assert [f.span.path if f.span else "" for f in result.findings] == ["one/app.json"]

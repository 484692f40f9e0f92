"""Gate logic of the evaluator, per IAM User Guide, "Policy evaluation logic"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)."""

from __future__ import annotations

from typing import Any

from policyeval import Outcome, Request, evaluate
from policyeval.batch import case_request
from policyeval.compiler.compiled import compile_policies
from policyeval.evaluator.decision import Gate

ROLE = "arn:aws:iam::111122223333:role/app"
SESSION = "arn:aws:sts::111122223333:assumed-role/app/task-1"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str = "s3:GetObject", resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str = "s3:GetObject", resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def decide(**case: Any) -> tuple[Outcome, Gate | None]:
    base = {"principal": SESSION, "action": "s3:GetObject", "resource": "arn:aws:s3:::bucket/key"}
    policies, request = case_request({**base, **case})
    decision = evaluate(compile_policies(policies), request)
    return decision.outcome, decision.decided_by


def test_no_policy_means_implicit_deny() -> None:
    assert decide()[0] is Outcome.IMPLICIT_DENY


def test_explicit_deny_in_any_gate_beats_every_allow() -> None:
    for gate_field in ("scps", "identityPolicies"):
        outcome, gate = decide(
            identityPolicies=[doc(allow(), deny())]
            if gate_field == "identityPolicies"
            else [doc(allow())],
            scps=[doc(allow("*"), deny())] if gate_field == "scps" else None,
        )
        assert outcome is Outcome.EXPLICIT_DENY
    outcome, gate = decide(identityPolicies=[doc(allow())], resourcePolicy=doc(deny(Principal="*")))
    assert (outcome, gate) == (Outcome.EXPLICIT_DENY, Gate.RESOURCE)


def test_every_scp_level_must_allow() -> None:
    outcome, gate = decide(
        identityPolicies=[doc(allow())], scps=[[doc(allow("*"))], [doc(allow("ec2:*"))]]
    )
    assert (outcome, gate) == (Outcome.IMPLICIT_DENY, Gate.SCP)


def test_scps_do_not_apply_to_service_linked_roles() -> None:
    slr = "arn:aws:iam::111122223333:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"
    outcome, _ = decide(principal=slr, identityPolicies=[doc(allow())], scps=[doc(allow("ec2:*"))])
    assert outcome is Outcome.ALLOWED


def test_rcp_deny_applies_only_to_supported_services() -> None:
    rcp = [doc(deny("*", Principal="*"))]
    assert decide(identityPolicies=[doc(allow())], rcps=rcp)[0] is Outcome.EXPLICIT_DENY
    outcome, _ = decide(
        action="ec2:DescribeInstances",
        resource="*",
        identityPolicies=[doc(allow("ec2:*"))],
        rcps=rcp,
    )
    assert outcome is Outcome.ALLOWED


def test_boundary_caps_identity_allow() -> None:
    outcome, gate = decide(
        identityPolicies=[doc(allow())], permissionBoundaries=[doc(allow("ec2:*"))]
    )
    assert (outcome, gate) == (Outcome.IMPLICIT_DENY, Gate.BOUNDARY)


def test_resource_grant_to_role_arn_is_capped_by_session_policy() -> None:
    outcome, gate = decide(
        resourcePolicy=doc(allow(Principal={"AWS": ROLE})), sessionPolicy=doc(allow("ec2:*"))
    )
    assert (outcome, gate) == (Outcome.IMPLICIT_DENY, Gate.SESSION)


def test_resource_grant_to_exact_session_is_not_capped_by_session_policy_or_boundary() -> None:
    outcome, gate = decide(
        resourcePolicy=doc(allow(Principal={"AWS": SESSION})),
        sessionPolicy=doc(allow("ec2:*")),
        permissionBoundaries=[doc(allow("ec2:*"))],
    )
    assert (outcome, gate) == (Outcome.ALLOWED, Gate.RESOURCE)


def test_same_account_resource_grant_alone_is_enough() -> None:
    outcome, gate = decide(resourcePolicy=doc(allow(Principal={"AWS": ROLE})))
    assert (outcome, gate) == (Outcome.ALLOWED, Gate.RESOURCE)


def test_account_principal_in_same_account_delegates_to_identity_policies() -> None:
    outcome, _ = decide(resourcePolicy=doc(allow(Principal={"AWS": "111122223333"})))
    assert outcome is Outcome.IMPLICIT_DENY


def test_cross_account_needs_both_sides() -> None:
    cross = {"resourceAccount": "444455556666"}
    assert decide(identityPolicies=[doc(allow())], **cross)[0] is Outcome.IMPLICIT_DENY
    assert (
        decide(resourcePolicy=doc(allow(Principal={"AWS": ROLE})), **cross)[0]
        is Outcome.IMPLICIT_DENY
    )
    both = decide(
        identityPolicies=[doc(allow())],
        resourcePolicy=doc(allow(Principal={"AWS": "111122223333"})),
        **cross,
    )
    assert both[0] is Outcome.ALLOWED


def test_anonymous_caller_needs_a_public_resource_policy() -> None:
    assert (
        decide(principal="anonymous", resourcePolicy=doc(allow(Principal="*")))[0]
        is Outcome.ALLOWED
    )
    assert (
        decide(principal="anonymous", resourcePolicy=doc(allow(Principal={"AWS": ROLE})))[0]
        is Outcome.IMPLICIT_DENY
    )


def test_not_action_and_not_resource() -> None:
    assert (
        decide(identityPolicies=[doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})])[
            0
        ]
        is Outcome.ALLOWED
    )
    outcome, _ = decide(
        identityPolicies=[
            doc(
                allow(),
                {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::bucket/*"},
            )
        ]
    )
    assert outcome is Outcome.ALLOWED
    outcome, _ = decide(
        identityPolicies=[
            doc(
                allow(), {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::other/*"}
            )
        ]
    )
    assert outcome is Outcome.EXPLICIT_DENY


def test_resource_matching_is_case_sensitive_and_actions_are_not() -> None:
    assert (
        decide(identityPolicies=[doc(allow("S3:getobject", "arn:aws:s3:::bucket/*"))])[0]
        is Outcome.ALLOWED
    )
    assert (
        decide(identityPolicies=[doc(allow("s3:GetObject", "arn:aws:s3:::BUCKET/*"))])[0]
        is Outcome.IMPLICIT_DENY
    )


def test_variables_are_literal_in_2008_and_versionless_policies() -> None:
    """IAM User Guide, "Policy variables": only Version 2012-10-17 substitutes them."""
    statement = allow(resource="arn:aws:s3:::bucket/${aws:username}")
    ctx = {"aws:username": "key"}
    assert decide(identityPolicies=[doc(statement)], context=ctx)[0] is Outcome.ALLOWED
    assert (
        decide(identityPolicies=[{"Version": "2008-10-17", "Statement": [statement]}], context=ctx)[
            0
        ]
        is Outcome.IMPLICIT_DENY
    )
    assert (
        decide(identityPolicies=[{"Statement": [statement]}], context=ctx)[0]
        is Outcome.IMPLICIT_DENY
    )


def test_unknown_context_gives_conditional_with_the_deciding_keys() -> None:
    policies, _ = case_request(
        {
            "principal": SESSION,
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::bucket/key",
            "identityPolicies": [doc(allow(Condition={"Bool": {"aws:SecureTransport": "true"}}))],
        }
    )
    compiled = compile_policies(policies)
    request = Request(
        SESSION, "s3:GetObject", "arn:aws:s3:::bucket/key", {}, context_complete=False
    )
    decision = evaluate(compiled, request)
    assert decision.outcome is Outcome.CONDITIONAL
    assert decision.deciding_keys == ("aws:securetransport",)
    # A definite answer stays definite: an unconditional deny decides whatever the keys are.
    policies2, _ = case_request(
        {
            "principal": SESSION,
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::bucket/key",
            "identityPolicies": [
                doc(allow(Condition={"Bool": {"aws:SecureTransport": "true"}}), deny())
            ],
        }
    )
    assert evaluate(compile_policies(policies2), request).outcome is Outcome.EXPLICIT_DENY


def test_explanation_names_policy_and_position() -> None:
    policies, request = case_request(
        {
            "principal": SESSION,
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::bucket/key",
            "identityPolicies": [doc(allow(Sid="Read"))],
        }
    )
    decision = evaluate(compile_policies(policies), request)
    assert decision.matched[0].sid == "Read"
    assert decision.matched[0].policy == "identity[0]"


def test_root_user_has_full_access_in_its_account_but_scps_still_apply() -> None:
    root = "arn:aws:iam::111122223333:root"
    assert decide(principal=root)[0] is Outcome.ALLOWED
    assert decide(principal=root, scps=[doc(allow("ec2:*"))])[0] is Outcome.IMPLICIT_DENY
    assert decide(principal=root, resourceAccount="444455556666")[0] is Outcome.IMPLICIT_DENY


def test_resource_policy_allow_without_principal_grants_nothing() -> None:
    outcome, _ = decide(resourcePolicy=doc(allow()))
    assert outcome is Outcome.IMPLICIT_DENY


def test_public_resource_grant_is_not_capped_by_boundary() -> None:
    """A resource policy open to `*` matches the session principal itself (an anonymous
    caller could read it too), so the boundary's implicit deny does not remove it."""
    outcome, gate = decide(
        resourcePolicy=doc(allow(Principal="*")), permissionBoundaries=[doc(allow("ec2:*"))]
    )
    assert (outcome, gate) == (Outcome.ALLOWED, Gate.RESOURCE)

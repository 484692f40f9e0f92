"""Where the engine must approximate, it assumes the worse case.

- An unknown or unsupported condition operator never adds access in an Allow and never
  removes a denial in a Deny (AWS refuses such a policy, so no real account has it; the
  evaluator must not report less than AWS could grant).
- Replacing a known value of the topology (network mode, role reference, instance profile)
  by UNKNOWN never removes a reachable credential: "unknown" counts as reachable.
"""

from __future__ import annotations

from typing import Any

from fuzz_strategies import KEYS, contexts, policies, statements
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from policyeval.batch import decide_case
from policyeval.model.topology import UNKNOWN, LaunchType, MetadataOptions
from policyeval.resolver.credentials import resolve_credentials
from tests.resolver_fixtures import ecs_workspace

QUIET = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
ROLE = "arn:aws:iam::111122223333:role/r"
#: How permissive an answer is, least first.
RANK = {"ExplicitDeny": 0, "ImplicitDeny": 0, "Conditional": 1, "Allow": 2}
UNKNOWN_OPERATORS = st.sampled_from(
    ["StringLik", "Foo:StringEquals", "NullIfExists", "StringEqualsIfExistsIfExists", "Bogus"]
)
ACTIONS = st.sampled_from(["s3:GetObject", "iam:PassRole", "ec2:DescribeInstances"])


def decide(identity: list[Any], action: str, context: dict[str, Any]) -> str | None:
    answer = decide_case(
        {
            "principal": ROLE,
            "action": action,
            "resource": "arn:aws:s3:::b/k",
            "identityPolicies": identity,
            "context": context,
        }
    )
    decision = answer["decision"]
    return decision if isinstance(decision, str) else None


def valid(documents: list[Any], action: str, context: dict[str, Any]) -> bool:
    return decide(documents, action, context) is not None


def with_operator(effect: str, operator: str, key: str, value: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": effect,
                "Action": "*",
                "Resource": "*",
                "Condition": {operator: {key: value}},
            }
        ],
    }


def unconditional(effect: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Action": "*", "Resource": "*"}],
    }


def compiled_with_unknown_operator(effect: str, operator: str) -> Any:
    """The compiled form: the readers refuse unknown operators (PE050), so the evaluator's
    own rule is checked on a policy built directly."""
    from policyeval.compiler.compiled import PolicySet, compile_policies
    from policyeval.model.policy import Condition, Effect, Policy, Statement

    statement = Statement(
        Effect(effect),
        action=("*",),
        resource=("*",),
        condition=(Condition(operator, "aws:PrincipalTag/team", ("x",)),),
    )
    return PolicySet, compile_policies, Policy("u", (statement,))


@QUIET
@given(
    st.lists(policies, min_size=1, max_size=2),
    contexts,
    ACTIONS,
    UNKNOWN_OPERATORS,
    st.sampled_from(KEYS),
)
def test_unknown_operator_in_an_allow_never_adds_access(
    documents: list[Any], context: dict[str, Any], action: str, operator: str, key: str
) -> None:
    from policyeval.evaluator.engine import evaluate
    from policyeval.evaluator.request import Request
    from policyeval.readers.iam_json import policy_from_document

    loaded = [policy_from_document(d, f"p{i}")[0] for i, d in enumerate(documents)]
    base = tuple(p for p in loaded if p is not None)
    policy_set, compile_policies, unknown = compiled_with_unknown_operator("Allow", operator)
    request = Request(ROLE, action, "arn:aws:s3:::b/k", {})
    before = evaluate(compile_policies(policy_set(identity=base)), request)
    after = evaluate(compile_policies(policy_set(identity=(*base, unknown))), request)
    assert after.outcome == before.outcome


@QUIET
@given(st.lists(policies, min_size=0, max_size=2), ACTIONS, UNKNOWN_OPERATORS)
def test_unknown_operator_in_a_deny_never_removes_a_denial(
    documents: list[Any], action: str, operator: str
) -> None:
    """A Deny whose operator is not understood acts as an unconditional Deny."""
    from policyeval.evaluator.decision import Outcome
    from policyeval.evaluator.engine import evaluate
    from policyeval.evaluator.request import Request
    from policyeval.readers.iam_json import policy_from_document

    loaded = [policy_from_document(d, f"p{i}")[0] for i, d in enumerate(documents)]
    base = tuple(p for p in loaded if p is not None)
    policy_set, compile_policies, unknown = compiled_with_unknown_operator("Deny", operator)
    for unknown_keys, complete in (
        (frozenset(), True),
        (frozenset({"aws:principaltag/team"}), False),
    ):
        request = Request(ROLE, action, "arn:aws:s3:::b/k", {}, None, unknown_keys, complete)
        after = evaluate(compile_policies(policy_set(identity=(*base, unknown))), request)
        assert after.outcome is Outcome.EXPLICIT_DENY


@QUIET
@given(st.lists(statements, min_size=1, max_size=2), contexts, ACTIONS, st.sampled_from(KEYS))
def test_a_condition_on_an_unknown_key_never_makes_an_allow_definite(
    raw: list[Any], context: dict[str, Any], action: str, key: str
) -> None:
    """Adding a condition to an Allow can only make the answer less permissive."""
    documents = [{"Version": "2012-10-17", "Statement": raw}]
    before = decide(documents, action, context)
    narrowed = [
        {
            "Version": "2012-10-17",
            "Statement": [
                {**s, "Condition": {"StringEquals": {key: "only-this"}}}
                if isinstance(s, dict) and s.get("Effect") == "Allow" and "Condition" not in s
                else s
                for s in raw
            ],
        }
    ]
    after = decide(narrowed, action, context)
    if before is None or after is None:
        return
    assert RANK[after] <= RANK[before]


def exposed(ws: Any) -> set[tuple[str, str]]:
    return {
        (w.id, c.source.value) for w in resolve_credentials(ws) for c in w.credentials if c.exposed
    }


@QUIET
@given(
    network=st.sampled_from([None, "bridge", "host", "awsvpc", "none"]),
    hop_limit=st.sampled_from([None, 1, 2]),
    tokens=st.sampled_from([None, "optional", "required"]),
    launch=st.sampled_from([LaunchType.EC2, LaunchType.EXTERNAL, LaunchType.FARGATE]),
    replaced=st.sampled_from(["network", "task_role", "instance_profile", "execution_role"]),
)
@example(  # found by this test: an UNKNOWN network mode was treated as bridge, hiding IMDS
    network="host", hop_limit=None, tokens="required", launch=LaunchType.EC2, replaced="network"
)
def test_replacing_a_known_value_by_unknown_never_removes_a_reachable_credential(
    network: str | None,
    hop_limit: int | None,
    tokens: str | None,
    launch: LaunchType,
    replaced: str,
) -> None:
    common: dict[str, Any] = {
        "launch": launch,
        "metadata": MetadataOptions(http_tokens=tokens, hop_limit=hop_limit),
    }
    known = {
        "network": network,
        "task_role": "task",
        "instance_profile": "host-profile",
        "execution_role": "exec",
    }
    before = ecs_workspace(**common, **known)
    after = ecs_workspace(**common, **{**known, replaced: UNKNOWN})
    assert exposed(before) <= exposed(after)

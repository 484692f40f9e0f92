"""Laws of AWS's evaluation logic that hold for every request and policy set.

IAM User Guide, "Policy evaluation logic" and "How AWS enforcement code logic evaluates
requests to allow or deny access": statements and policies are a set (order never matters),
an explicit Deny always wins, and SCPs, RCPs and permissions boundaries only ever remove
access. Cases come from tests/strategies.py: real actions, concrete ARNs of their resource
types, and policies of every gate.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from policyeval.batch import case_request, decide_case
from policyeval.compiler.compiled import compile_policies
from policyeval.evaluator.decision import Outcome
from policyeval.evaluator.engine import evaluate
from tests.strategies import (
    CIDRS,
    EPOCHS,
    IPS,
    ISO_TIMES,
    NUMBERS,
    ORG_IDS,
    SERVICES_CALLED,
    STRING_VALUES,
    cases,
)

Case = dict[str, Any]
SINGLE_POLICY_FIELDS = ("resourcePolicy", "sessionPolicy")
LIST_POLICY_FIELDS = ("identityPolicies", "permissionBoundaries")


def decision(case: Case) -> str | None:
    answer = decide_case(case)
    assert not answer.get("error"), answer
    return answer["decision"]  # type: ignore[no-any-return]


def all_policies(case: Case) -> Iterator[dict[str, Any]]:
    for field in LIST_POLICY_FIELDS:
        yield from case.get(field) or []
    for field in ("scps", "rcps"):
        for level in case.get(field) or []:
            yield from level if isinstance(level, list) else [level]
    for field in SINGLE_POLICY_FIELDS:
        if case.get(field):
            yield case[field]


def unconditional_deny(case: Case, principal: bool = False) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Deny",
        "Action": case["action"],
        "Resource": case["resource"],
    }
    if principal:
        statement["Principal"] = "*"
    return {"Version": "2012-10-17", "Statement": [statement]}


@given(cases())
def test_statement_order_never_matters(case: Case) -> None:
    reordered = copy.deepcopy(case)
    for policy in all_policies(reordered):
        policy["Statement"].reverse()
    assert decision(reordered) == decision(case)


@given(cases())
def test_policy_order_never_matters(case: Case) -> None:
    reordered = copy.deepcopy(case)
    reordered["identityPolicies"].reverse()
    for field in ("scps", "rcps"):
        for level in reordered.get(field) or []:
            if isinstance(level, list):
                level.reverse()
    assert decision(reordered) == decision(case)


def _split(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for statement in statements:
        parts = [statement]
        for key in ("Action", "Resource"):  # never NotAction / NotResource
            next_parts: list[dict[str, Any]] = []
            for part in parts:
                values = part.get(key)
                if isinstance(values, list) and len(values) > 1:
                    next_parts.extend({**part, key: value} for value in values)
                else:
                    next_parts.append(part)
            parts = next_parts
        out.extend(parts)
    return out


@given(cases())
def test_splitting_action_or_resource_lists_changes_nothing(case: Case) -> None:
    split = copy.deepcopy(case)
    for policy in all_policies(split):
        policy["Statement"] = _split(policy["Statement"])
    assert decision(split) == decision(case)


@given(cases(), st.sampled_from(("identity", "resource", "boundary", "scp")))
def test_matching_unconditional_deny_never_allows(case: Case, where: str) -> None:
    denied = copy.deepcopy(case)
    if where == "identity":
        denied["identityPolicies"].append(unconditional_deny(case))
    elif where == "resource":
        policy = denied.get("resourcePolicy") or {"Version": "2012-10-17", "Statement": []}
        policy["Statement"].append(unconditional_deny(case, principal=True)["Statement"][0])
        denied["resourcePolicy"] = policy
    elif where == "boundary":
        boundary = (denied.get("permissionBoundaries") or [None])[0] or {
            "Version": "2012-10-17",
            "Statement": [],
        }
        boundary["Statement"].append(unconditional_deny(case)["Statement"][0])
        denied["permissionBoundaries"] = [boundary]
    else:
        denied["scps"] = [*_levels(denied.get("scps")), [unconditional_deny(case)]]
    assert decision(denied) == "ExplicitDeny"


def _levels(raw: Any) -> list[Any]:
    """Organisation policies as levels: the batch format also takes a flat list of
    policies as one level, and a level added to such a list must not join it."""
    if not raw:
        return []
    return list(raw) if all(isinstance(item, list) for item in raw) else [raw]


@given(cases(), cases(), st.sampled_from(("boundary", "scp", "rcp")))
def test_boundary_scp_or_rcp_never_turns_deny_into_allow(
    case: Case, donor: Case, gate: str
) -> None:
    before = decision(case)
    # The donor's policies target another request: an arbitrary guardrail for this one.
    extra = donor["identityPolicies"][0] if donor["identityPolicies"] else None
    guard = extra or {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}],
    }
    guarded = copy.deepcopy(case)
    if gate == "boundary" and guarded.get("permissionBoundaries"):
        gate = "scp"  # a principal has one boundary: add an organisation level instead
    if gate == "boundary":
        guarded["permissionBoundaries"] = [guard]
    elif gate == "scp":
        guarded["scps"] = [*_levels(guarded.get("scps")), [guard]]
    else:
        rcp = copy.deepcopy(guard)
        for statement in rcp["Statement"]:
            statement["Principal"] = "*"
        guarded["rcps"] = [*_levels(guarded.get("rcps")), [rcp]]
    after = decision(guarded)
    if before != "Allow":
        assert after != "Allow"
    if before == "ExplicitDeny":
        assert after == "ExplicitDeny"


# ------------------------------------------------------------------ unknown context

#: Candidate values for a key whose value is unknown; None means the key is missing.
CANDIDATES: dict[str, tuple[Any, ...]] = {
    "aws:principaltag/team": STRING_VALUES,
    "aws:principaltag/owner": STRING_VALUES,
    "aws:principalorgid": ORG_IDS,
    "aws:multifactorauthage": NUMBERS,
    "aws:currenttime": ISO_TIMES,
    "aws:epochtime": EPOCHS,
    "aws:securetransport": ("true", "false"),
    "aws:multifactorauthpresent": ("true", "false"),
    "aws:sourceip": IPS + tuple(c.split("/")[0] for c in CIDRS),
    "aws:tokenissuetime": ISO_TIMES,
    "aws:calledvia": ((), *((s,) for s in SERVICES_CALLED), SERVICES_CALLED[:2]),
}


def condition_keys(case: Case) -> list[str]:
    keys = {
        key.lower()
        for policy in all_policies(case)
        for statement in policy["Statement"]
        for block in (statement.get("Condition") or {}).values()
        for key in block
    }
    return sorted(keys & CANDIDATES.keys())


def _neighbours(value: str) -> tuple[str, ...]:
    """Values just around a policy's own number, epoch or ISO time: where decisions flip."""
    try:
        number = int(value)
    except ValueError:
        pass
    else:
        return (str(number - 1), value, str(number + 1))
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return (value,)
    return tuple(
        (when + timedelta(seconds=delta)).strftime("%Y-%m-%dT%H:%M:%SZ") for delta in (-1, 0, 1)
    )


def candidates(case: Case, key: str) -> tuple[Any, ...]:
    """Every value worth trying for `key`: its pool, plus the neighbours of each policy value."""
    extra: set[str] = set()
    for policy in all_policies(case):
        for statement in policy["Statement"]:
            for block in (statement.get("Condition") or {}).values():
                for name, values in block.items():
                    if name.lower() == key:
                        for value in values if isinstance(values, list) else [values]:
                            extra.update(_neighbours(str(value)))
    if key in ("aws:calledvia",):
        extra = set()
    return (*CANDIDATES[key], *sorted(extra - set(CANDIDATES[key])))


def completions(case: Case, keys: list[str]) -> Iterator[dict[str, tuple[str, ...] | None]]:
    choices = [(None, *candidates(case, key)) for key in keys]
    for values in itertools.product(*choices):
        yield {
            key: (None if v is None else (v if isinstance(v, tuple) else (v,)))
            for key, v in zip(keys, values, strict=True)
        }


@given(cases(), st.data())
def test_definite_answers_hold_for_every_completion(case: Case, data: st.DataObject) -> None:
    """A non-CONDITIONAL answer under unknown keys is the answer for every value of those
    keys (missing included); a CONDITIONAL one names only unknown keys as deciding.

    The converse (a CONDITIONAL answer always has sampled completions that differ) is not a
    law: the engine treats undecided statements independently (sound, not complete), and
    the sampled values may miss the one that flips the answer."""
    keys = condition_keys(case)
    if not keys:
        keys = ["aws:principaltag/team"]
    unknown = data.draw(
        st.lists(st.sampled_from(keys), min_size=1, max_size=2, unique=True), label="unknown"
    )
    policies, request = case_request(case)
    compiled = compile_policies(policies)
    known = {k: v for k, v in request.context.items() if k.lower() not in unknown}
    partial = dataclasses.replace(request, context=known, unknown_keys=frozenset(unknown))
    decision = evaluate(compiled, partial)
    answer = decision.outcome
    outcomes = set()
    for completion in completions(case, unknown):
        context = dict(known)
        context.update({k: v for k, v in completion.items() if v is not None})
        full = dataclasses.replace(request, context=context, unknown_keys=frozenset())
        outcomes.add(evaluate(compiled, full).outcome)
    if answer is Outcome.CONDITIONAL:
        assert decision.deciding_keys
        assert set(decision.deciding_keys) <= {k.lower() for k in unknown}
    else:
        assert outcomes == {answer}, (
            f"{answer} under unknown {unknown}, completions give {outcomes}"
        )

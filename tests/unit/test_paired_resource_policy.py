"""A principal's compiled set paired with a resource policy (`with_resource_policy`) answers
exactly as the whole set compiled at once: same outcome, gate, statements, reason. The
paired set reuses its base's per-action plans and adds the resource policy's statements
unnarrowed (the engine tests their action), so both paths and their memos are checked,
against the general three-valued evaluation too."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from policyeval.batch import case_request, run_lines
from policyeval.compiler.compiled import (
    CompiledPolicy,
    CompiledPolicySet,
    PolicySet,
    compile_policies,
)
from policyeval.evaluator.decision import Gate
from policyeval.evaluator.engine import evaluate, evaluate_general
from policyeval.model.policy import Policy
from tests.strategies import cases, random_cases

CASES_DIR = Path(__file__).resolve().parents[1] / "cases" / "decisions"


def _agree(case: dict[str, Any]) -> None:
    policies, request = case_request(case)
    whole = compile_policies(policies)
    expected = evaluate_general(whole, request)
    assert evaluate(whole, request) == expected
    base = compile_policies(dataclasses.replace(policies, resource=None))
    for _ in range(2):  # the second time from the memoised plans
        paired = base.with_resource_policy(policies.resource)
        assert evaluate(paired, request) == expected, case.get("id")
        assert evaluate_general(paired, request) == expected, case.get("id")
    if policies.resource is not None:
        # A compiled resource policy is taken as it is, and a set compiled with a resource
        # policy can be paired with another (here: the same one again).
        compiled = CompiledPolicy(policies.resource, Gate.RESOURCE)
        assert evaluate(base.with_resource_policy(compiled), request) == expected
        assert evaluate(whole.with_resource_policy(policies.resource), request) == expected
        # Without it, the base answers as a set compiled without a resource policy.
        alone = compile_policies(dataclasses.replace(policies, resource=None))
        assert evaluate(whole.with_resource_policy(None), request) == evaluate(alone, request)


def test_every_documented_case_answers_the_same_paired() -> None:
    for path in sorted(CASES_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                _agree(json.loads(line))


@pytest.mark.parametrize("seed", range(3))
def test_generated_cases_answer_the_same_paired(seed: int) -> None:
    for case in random_cases(seed + 7100, 250, prefix="paired"):
        _agree(case)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(cases("paired"))
def test_drawn_cases_answer_the_same_paired(case: dict[str, Any]) -> None:
    _agree(case)


def test_a_role_asked_about_many_resources_in_a_batch_answers_case_by_case() -> None:
    # The batch pairs a known role's set with each case's resource policy; every answer must
    # be the one the case gets on its own.
    generated = random_cases(7200, 300, prefix="batch")
    role_fields = ("principal", "identityPolicies", "permissionBoundaries", "sessionPolicy")
    lines = []
    for index, case in enumerate(generated):
        role = generated[index % 7]  # seven roles, each asked about many resources
        shared = {k: role[k] for k in role_fields if k in role}
        rest = {k: v for k, v in case.items() if k not in role_fields}
        lines.append(json.dumps({"id": rest.pop("id"), **shared, **rest}))
    together = list(run_lines(lines + lines))
    alone = [next(iter(run_lines([line]))) for line in lines]
    assert together == alone + alone
    assert sum("resourcePolicy" in line for line in lines) > 30


def _lazy_set(policies: PolicySet) -> CompiledPolicySet:
    """Every policy compiled `lazy`, as the batch mode compiles them."""

    def one(policy: Policy | None, gate: Gate) -> CompiledPolicy | None:
        return CompiledPolicy(policy, gate, lazy=True) if policy is not None else None

    return CompiledPolicySet(
        identity=tuple(CompiledPolicy(p, Gate.IDENTITY, lazy=True) for p in policies.identity),
        boundary=one(policies.boundary, Gate.BOUNDARY),
        session=one(policies.session, Gate.SESSION),
        resource=one(policies.resource, Gate.RESOURCE),
        scps=tuple(
            tuple(CompiledPolicy(p, Gate.SCP, lazy=True) for p in lv) for lv in policies.scps
        ),
        rcps=tuple(
            tuple(CompiledPolicy(p, Gate.RCP, lazy=True) for p in lv) for lv in policies.rcps
        ),
    )


def _lazy_agrees(case: dict[str, Any]) -> None:
    policies, request = case_request(case)
    expected = evaluate_general(compile_policies(policies), request)
    lazy = _lazy_set(policies)
    assert not any(s.ready for p in lazy.identity for s in p.statements)
    assert evaluate(lazy, request) == expected, case.get("id")
    assert evaluate(lazy, request) == expected, case.get("id")
    assert evaluate_general(_lazy_set(policies), request) == expected, case.get("id")
    base = _lazy_set(dataclasses.replace(policies, resource=None))
    if policies.resource is not None:
        resource = CompiledPolicy(policies.resource, Gate.RESOURCE, lazy=True)
        assert evaluate(base.with_resource_policy(resource), request) == expected


@pytest.mark.parametrize("seed", range(3))
def test_lazily_compiled_policies_answer_as_eager_ones(seed: int) -> None:
    for case in random_cases(seed + 7300, 250, prefix="lazy"):
        _lazy_agrees(case)


def test_lazily_compiled_policies_answer_every_documented_case_as_eager_ones() -> None:
    for path in sorted(CASES_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                _lazy_agrees(json.loads(line))

"""The engine's fast path (complete context, no unknown keys) gives exactly the decision of
the general three-valued evaluation: same outcome, deciding gate, statements in order,
reason and keys.

`evaluate` takes the fast path whenever the request's context is complete; the general
evaluation (`evaluate_general`) is the reference it must agree with on every input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from policyeval.batch import case_request
from policyeval.compiler.compiled import compile_policies
from policyeval.evaluator.engine import evaluate, evaluate_general
from policyeval.evaluator.request import Request
from tests.strategies import cases, random_cases

CASES_DIR = Path(__file__).resolve().parents[1] / "cases" / "decisions"


def _documented_cases() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted(CASES_DIR.glob("*.jsonl")):
        found.extend(
            json.loads(line)
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        )
    return found


def _agree(case: dict[str, Any]) -> None:
    policies, request = case_request(case)
    compiled = compile_policies(policies)
    assert request.context_complete and not request.unknown_keys
    general = evaluate_general(compiled, request)
    # Twice: the second answer comes from the memoised plans and condition results.
    assert evaluate(compiled, request) == general, case.get("id")
    assert evaluate(compiled, request) == general, case.get("id")


def test_fast_path_agrees_on_every_documented_case() -> None:
    for case in _documented_cases():
        _agree(case)


@pytest.mark.parametrize("seed", range(4))
def test_fast_path_agrees_on_generated_cases(seed: int) -> None:
    for case in random_cases(seed + 9000, 250, prefix="fast"):
        _agree(case)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(cases("fast"))
def test_fast_path_agrees_on_drawn_cases(case: dict[str, Any]) -> None:
    _agree(case)


def test_shared_compiled_set_answers_many_requests_the_same_both_ways() -> None:
    """One compiled set, many requests (plans and memos shared between them)."""
    generated = random_cases(4242, 300, prefix="shared")
    policies, _ = case_request(generated[0])
    compiled = compile_policies(policies)
    requests: list[Request] = [case_request(case)[1] for case in generated]
    for request in requests * 2:
        assert evaluate(compiled, request) == evaluate_general(compiled, request)


def test_unknown_keys_take_the_general_path() -> None:
    case = random_cases(77, 1, prefix="unknown")[0]
    policies, request = case_request(case)
    compiled = compile_policies(policies)
    incomplete = Request(
        request.principal,
        request.action,
        request.resource,
        request.context,
        request.resource_account,
        context_complete=False,
    )
    assert evaluate(compiled, incomplete) == evaluate_general(compiled, incomplete)

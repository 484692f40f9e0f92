"""Differential test: policyeval against the independent simulator (@cloud-copilot/iam-simulate).

Two corpora go through both deciders: the decision cases of tests/cases/decisions, and
10,000+ cases generated from the real action catalogue with a fixed seed. A disagreement
fails unless deviations.yaml lists it (with the AWS rule and both answers); a listed
disagreement that no longer happens fails too. Only cases the simulator answers for this very
request are compared (no error, no ignored context key, a single concrete resource).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from tests.differential.deciders import (
    Case,
    PolicyevalDecider,
    Result,
    SimulatorDecider,
    comparable,
    oracle_problem,
)
from tests.strategies import cases, random_cases

pytestmark = pytest.mark.differential

HERE = Path(__file__).resolve().parent
CASES_DIR = HERE.parent / "cases" / "decisions"
GENERATED = 12_000
MIN_COMPARED = 10_000
SEED = 20240601


def corpus() -> list[Case]:
    cases: list[Case] = []
    for path in sorted(CASES_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                cases.append(json.loads(line))
    return cases


def deviations() -> dict[str, dict[str, Any]]:
    """Listed disagreements by corpus case id: `{aws, simulator, deviation}`."""
    data = yaml.safe_load((HERE / "deviations.yaml").read_text(encoding="utf-8"))
    listed: dict[str, dict[str, Any]] = {}
    for entry in data["deviations"]:
        assert entry["rule"] and entry["doc"].startswith("https://docs.aws.amazon.com/"), entry[
            "id"
        ]
        for case in entry["cases"]:
            listed[case["id"]] = {**case, "deviation": entry["id"]}
    return listed


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorDecider]:
    problem = oracle_problem()
    if problem:
        pytest.fail(f"the differential test cannot run: {problem}")
    with SimulatorDecider() as decider:
        yield decider


def _show(case: Case, ours: Result, theirs: Result) -> str:
    return (
        f"{case['id']}: policyeval={ours.get('decision')} ({ours.get('reason', ours.get('error'))})"
        f" simulator={theirs.get('decision')}\n  {json.dumps(case)}"
    )


def test_corpus_agrees_with_simulator_except_listed_deviations(
    simulator: SimulatorDecider,
) -> None:
    cases = corpus()
    listed = deviations()
    known = {case["id"]: case for case in cases}
    for case_id, listing in listed.items():
        assert case_id in known, f"deviations.yaml names unknown case {case_id}"
        assert listing["aws"] == known[case_id]["expect"], f"{case_id}: aws answer != expect"
    ours = PolicyevalDecider().decide_many(cases)
    theirs = simulator.decide_many(cases)
    unlisted: list[str] = []
    stale: list[str] = []
    for case, mine, other in zip(cases, ours, theirs, strict=True):
        entry = listed.get(case["id"])
        if not comparable(other):
            if entry:
                stale.append(f"{case['id']}: the simulator no longer answers it ({other})")
            continue
        if mine.get("decision") == other["decision"]:
            if entry:
                stale.append(
                    f"{case['id']}: listed as {entry['deviation']} but both say {mine['decision']}"
                )
        elif not entry:
            unlisted.append(_show(case, mine, other))
        elif (entry["aws"], entry["simulator"]) != (mine.get("decision"), other["decision"]):
            unlisted.append("answers differ from deviations.yaml: " + _show(case, mine, other))
    assert not unlisted, "unlisted disagreements:\n" + "\n".join(unlisted)
    assert not stale, "listed deviations that no longer happen:\n" + "\n".join(stale)


def test_generated_cases_agree_with_simulator(simulator: SimulatorDecider) -> None:
    """10,000+ catalogue-built cases; the generator avoids the listed deviations by design."""
    _agree_on(random_cases(SEED, GENERATED), simulator, MIN_COMPARED)


@pytest.mark.slow
@pytest.mark.parametrize("seed", (11, 22, 33, 44, 55, 66))
def test_more_seeds_agree_with_simulator(simulator: SimulatorDecider, seed: int) -> None:
    """A long campaign (`make deep`): 10,000 more cases per seed, new ground each."""
    _agree_on(random_cases(seed, 10_000), simulator, 9_500)


def _agree_on(cases: list[Case], simulator: SimulatorDecider, minimum: int) -> None:
    ours = PolicyevalDecider().decide_many(cases)
    theirs = simulator.decide_many(cases)
    compared = 0
    disagreements: list[str] = []
    for case, mine, other in zip(cases, ours, theirs, strict=True):
        if not comparable(other):
            continue
        compared += 1
        assert mine.get("decision") is not None, f"policyeval failed on {case['id']}: {mine}"
        if mine["decision"] != other["decision"]:
            disagreements.append(_show(case, mine, other))
    assert compared >= minimum, f"only {compared} generated cases were comparable"
    assert not disagreements, (
        f"{len(disagreements)} disagreements in {compared} cases "
        "(shrink one with `python -m tests.differential.minimise`):\n"
        + "\n".join(disagreements[:10])
    )


HYPOTHESIS_EXAMPLES = 10_000


def test_hypothesis_cases_agree_with_simulator(simulator: SimulatorDecider) -> None:
    """The same catalogue-built cases, drawn by hypothesis (10,000 examples per run), so a
    disagreement is shrunk to a small case before it is reported."""
    compared: list[int] = [0]

    @settings(
        max_examples=HYPOTHESIS_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases())
    def agree(case: Case) -> None:
        (theirs,) = simulator.decide_many([case])
        if not comparable(theirs):
            return
        (mine,) = PolicyevalDecider().decide_many([case])
        compared[0] += 1
        assert mine.get("decision") == theirs["decision"], _show(case, mine, theirs)

    agree()
    assert compared[0] >= HYPOTHESIS_EXAMPLES * 0.9, f"only {compared[0]} cases were comparable"

"""Every decision case of tests/cases/decisions runs through policyeval's batch mode.

Each case carries the AWS-correct decision (`expect`), worked out from the AWS page named in
its `doc` field, and where meaningful the gate that decides (`expectGate`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from policyeval.batch import decide_case

CASES_DIR = Path(__file__).resolve().parents[1] / "cases" / "decisions"
DECISIONS = {"Allow", "ImplicitDeny", "ExplicitDeny"}


def load_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in sorted(CASES_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                cases.append(json.loads(line))
    return cases


CASES = load_cases()


def test_corpus_is_large_unique_and_documented() -> None:
    ids = [case["id"] for case in CASES]
    assert len(ids) >= 180
    assert len(ids) == len(set(ids)), "case ids must be unique"
    for case in CASES:
        assert case["expect"] in DECISIONS, case["id"]
        assert case["note"].strip(), case["id"]
        assert case["doc"].startswith("https://docs.aws.amazon.com/"), case["id"]


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_decision_case(case: dict[str, Any]) -> None:
    answer = decide_case(case)
    assert not answer.get("error"), answer.get("error")
    assert answer["decision"] == case["expect"], f"{case['note']} ({case['doc']}): {answer}"
    if "expectGate" in case:
        assert answer["decidedBy"] == case["expectGate"], f"{case['note']}: {answer}"

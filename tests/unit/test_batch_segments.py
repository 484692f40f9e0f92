"""Batch lines that repeat a role's policies are parsed without them (`batch._parse_line`):
every answer must be the one `decide_case` gives for the line parsed whole, whatever the
line's layout, and lines that merely look alike must never share a role's policies."""

from __future__ import annotations

import json
from typing import Any

import orjson

from policyeval import batch
from policyeval.batch import decide_case, run_lines
from tests.strategies import random_cases


def _whole(lines: list[str]) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except ValueError:
            answers.append({"line": number, "decision": None})
            continue
        answers.append(decide_case(case))
    return answers


def _check(lines: list[str]) -> None:
    got = [orjson.loads(a) for a in run_lines(lines)]
    want = _whole(lines)
    assert len(got) == len(want)
    for answer, expected in zip(got, want, strict=True):
        if "line" in expected:
            assert answer["decision"] is None and answer["line"] == expected["line"]
        else:
            assert answer == expected


def _role_lines(seed: int, count: int) -> list[dict[str, Any]]:
    cases = random_cases(seed, count, prefix="seg")
    roles = cases[:3]
    out = []
    for index, case in enumerate(cases):
        role = roles[index % 3]
        mixed = {k: v for k, v in case.items() if k not in ("identityPolicies", "scps")}
        mixed["identityPolicies"] = role.get("identityPolicies") or [
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}] * 20,
            }
        ]
        if role.get("scps"):
            mixed["scps"] = role["scps"]
        out.append(mixed)
    return out


def test_repeated_roles_answer_as_when_parsed_whole() -> None:
    cases = _role_lines(31, 120)
    lines = [json.dumps(c) for c in cases]
    _check(lines)
    # The fast path is taken (the test is not vacuous).
    assert sum(batch._parse_line(line)[1] is not None for line in lines) >= 40
    _check([json.dumps(c, indent=None, separators=(",", ":")) for c in cases])


def test_roles_placed_anywhere_in_the_line() -> None:
    cases = _role_lines(32, 60)
    lines = []
    for index, case in enumerate(cases):
        keys = list(case)
        keys = keys[index % len(keys) :] + keys[: index % len(keys)]
        lines.append(json.dumps({k: case[k] for k in keys}))
    _check(lines * 2)


def test_look_alike_lines_do_not_share_policies() -> None:
    (case,) = _role_lines(33, 1)
    line = json.dumps(case)
    members = json.dumps({"identityPolicies": case["identityPolicies"]})[1:-1]
    tricky = [
        line,
        line,
        # The same text nested in the context: not the top-level member.
        json.dumps(
            {**case, "identityPolicies": [], "context": {"x": json.loads("{" + members + "}")}}
        ),
        # The same text inside a string value.
        json.dumps({**case, "identityPolicies": [], "note": members}),
        # The placeholder key in the line.
        json.dumps({**case, "policyeval-batch-segment": []}),
        # A duplicate key after the segment: the last one wins.
        line[:-1] + ', "identityPolicies": []}',
        # Broken JSON around a known segment.
        line[:-1],
        line + "x",
        "[" + line + "]",
        line,
    ]
    _check(tricky)
    assert batch._parse_line(line)[1] is not None

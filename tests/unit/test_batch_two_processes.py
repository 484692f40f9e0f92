"""`policyeval eval --cases FILE` on two processes: a forked child answers the second half
of a large file. The answers must be byte for byte the ones one process writes, in input
order, with error lines numbered as in the file, and a child that dies must cost nothing
but time."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

from policyeval import evalcli
from tests.strategies import (
    catalog_actions,
    concrete_arn,
    random_context,
    random_policy,
    random_principal,
)

ACCOUNT = "111122223333"


def _cases(count: int, seed: int) -> list[str]:
    """Lines of a batch: cases over a few roles (so role segments form), some with a
    resource policy, and bad lines of every kind scattered through both halves."""
    rng = random.Random(seed)
    actions = [a for a in catalog_actions() if a.arn_formats][:400]
    roles = []
    for _ in range(4):
        who = random_principal(rng, ACCOUNT)
        action = rng.choice(actions)
        arn = concrete_arn(rng, action.arn_formats[0], ACCOUNT, "us-east-1")
        roles.append((who, [random_policy(rng, action, arn, who) for _ in range(3)]))
    lines = []
    for index in range(count):
        who, policies = roles[index % len(roles)]
        action = rng.choice(actions)
        arn = concrete_arn(rng, action.arn_formats[0], ACCOUNT, "us-east-1")
        case: dict[str, Any] = {
            "id": f"c{index}",
            "principal": who.arn,
            "action": action.full,
            "resource": arn,
            "context": random_context(rng, who, "us-east-1"),
            "identityPolicies": policies,
        }
        if rng.random() < 0.3:
            case["resourcePolicy"] = random_policy(rng, action, arn, who)
        lines.append(json.dumps(case))
    bad = ["", "[1, 2]", '{"id": "x"}', "   ", '{"id": "\\ud800", "principal": 1}']
    for position, line in sorted(zip(rng.sample(range(count), len(bad)), bad, strict=True)):
        lines.insert(position, line)
    # invalid JSON, whose answers carry line numbers, near each end
    lines.insert(len(lines) * 5 // 6, "{not json")
    lines.insert(len(lines) // 6, "{not json either")
    return lines


def _answers(path: Path, jobs: int, capfdbinary: pytest.CaptureFixture[bytes]) -> bytes:
    capfdbinary.readouterr()
    assert evalcli.run_cases(str(path), jobs=jobs) == 0
    return capfdbinary.readouterr().out


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a test-sized file take the two-process path."""
    monkeypatch.setattr(evalcli, "PARALLEL_MIN_BYTES", 1)


@pytest.mark.usefixtures("small_threshold")
@pytest.mark.parametrize("seed", [1, 2])
def test_two_processes_write_what_one_writes(
    tmp_path: Path, seed: int, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    path = tmp_path / "cases.jsonl"
    lines = _cases(300, seed)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one = _answers(path, 1, capfdbinary)
    two = _answers(path, 2, capfdbinary)
    assert two == one
    answers = [json.loads(line) for line in two.splitlines()]
    assert len(answers) == sum(1 for line in lines if line.strip())
    ids = [a["id"] for a in answers if a["id"] is not None and a["id"].startswith("c")]
    assert ids == [f"c{i}" for i in range(300)]
    numbered = [a["line"] for a in answers if "line" in a]
    expected = [n for n, line in enumerate(lines, 1) if line.startswith("{not")]
    assert numbered == expected
    # both halves hold bad lines, so the child's numbering was exercised
    assert min(numbered) < len(lines) // 2 < max(numbered)


@pytest.mark.usefixtures("small_threshold")
def test_a_file_without_a_final_newline_and_with_crlf_lines(
    tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_bytes("\r\n".join(_cases(120, 3)).encode())
    assert _answers(path, 2, capfdbinary) == _answers(path, 1, capfdbinary)


@pytest.mark.usefixtures("small_threshold")
def test_invalid_utf8_is_an_error_line_in_either_half(
    tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    lines = [line.encode() for line in _cases(100, 4)]
    lines[5] = b'{"id": "\xff"}'
    lines[90] = b"\xc3\x28"
    path = tmp_path / "cases.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    two = _answers(path, 2, capfdbinary)
    assert two == _answers(path, 1, capfdbinary)
    errors = [json.loads(a) for a in two.splitlines() if b"not UTF-8" in a]
    assert [e["line"] for e in errors] == [6, 91]


@pytest.mark.usefixtures("small_threshold")
def test_a_child_that_dies_costs_only_time(
    tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(_cases(200, 5)) + "\n", encoding="utf-8")
    one = _answers(path, 1, capfdbinary)
    parent = os.getpid()
    count = evalcli._newlines_before

    def dies_in_the_child(stream: Any, end: int) -> int:
        if os.getpid() != parent:
            os._exit(9)  # as if killed
        return count(stream, end)

    monkeypatch.setattr(evalcli, "_newlines_before", dies_in_the_child)
    assert _answers(path, 2, capfdbinary) == one


def test_small_files_stay_on_one_process(
    tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(_cases(50, 6)) + "\n", encoding="utf-8")

    def no_fork() -> int:
        raise AssertionError("a small file must not fork")

    monkeypatch.setattr(os, "fork", no_fork)
    assert _answers(path, 2, capfdbinary).count(b"\n") == 50 + 5

"""`policyeval eval`: one request with an explanation, and the batch mode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}],
}


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "policyeval", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def test_eval_prints_decision_and_the_statement_that_decided(tmp_path: Path) -> None:
    policy = tmp_path / "read.json"
    policy.write_text(json.dumps(POLICY, indent=2))
    result = run(
        "eval",
        "--principal",
        "arn:aws:iam::111122223333:role/app",
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::b/k",
        "-i",
        str(policy),
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["decision"] == "Allow"
    assert answer["matched"][0]["statement"] == "Read"
    assert answer["matched"][0]["line"] == 4


def test_eval_reports_bad_policy_with_position_and_exit_2(tmp_path: Path) -> None:
    policy = tmp_path / "bad.json"
    policy.write_text(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Alow", "Action": "*", "Resource": "*"}]}'
    )
    result = run(
        "eval",
        "--principal",
        "arn:aws:iam::1:role/a",
        "--action",
        "s3:GetObject",
        "--resource",
        "*",
        "-i",
        str(policy),
    )
    assert result.returncode == 2
    assert f"{policy}:1:52: PE045 error" in result.stderr
    assert "Traceback" not in result.stderr


def test_batch_answers_every_line_in_order_and_survives_bad_cases() -> None:
    good = {
        "id": "g",
        "principal": "arn:aws:iam::1:role/a",
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::b/k",
        "identityPolicies": [json.dumps(POLICY)],
    }
    lines = "\n".join(
        [
            json.dumps(good),
            "{not json",
            json.dumps({"id": "x", "action": 3}),
            json.dumps({**good, "id": "g2"}),
        ]
    )
    result = run("eval", "--cases", "-", stdin=lines)
    assert result.returncode == 0
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["id"] for a in answers] == ["g", None, "x", "g2"]
    assert [a["decision"] for a in answers] == ["Allow", None, None, "Allow"]
    assert "error" in answers[1] and "error" in answers[2]


def test_batch_command_line_takes_the_short_start_only_when_it_is_the_whole_line() -> None:
    from policyeval.entry import _batch_source

    assert _batch_source(["eval", "--cases", "c.jsonl"]) == "c.jsonl"
    assert _batch_source(["eval", "--cases=-"]) == "-"
    assert _batch_source(["eval", "--cases", "c.jsonl", "--format", "json"]) is None
    assert _batch_source(["eval", "--principal", "p"]) is None
    assert _batch_source(["eval", "--help"]) is None


def test_batch_with_other_options_answers_the_same_through_the_full_cli(tmp_path: Path) -> None:
    case = {
        "id": "one",
        "principal": "arn:aws:iam::111122223333:role/r",
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::b/k",
        "identityPolicies": [
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}
        ],
    }
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(case) + "\n\n{bad\n", encoding="utf-8")
    short = run("eval", "--cases", str(path))
    full = run("eval", "--cases", str(path), "--format", "json")
    assert short.returncode == full.returncode == 0
    assert short.stdout == full.stdout
    answers = [json.loads(line) for line in short.stdout.splitlines()]
    assert [a["id"] for a in answers] == ["one", None]
    assert answers[1]["line"] == 3

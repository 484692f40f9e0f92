"""`policyeval audit`, `check`, `diff`, `rules` and `rule` through the CLI: formats, exit
codes (0 clean, 1 findings at or above --fail-on, 2 input or usage errors), baselines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policyeval.cli import app

runner = CliRunner()

CLEAN = """account 111122223333
policy app { allow s3:GetObject on "arn:aws:s3:::assets/*" }
role app {
  trust { allow sts:AssumeRole principal service "ecs-tasks.amazonaws.com" if StringEquals aws:SourceAccount = "111122223333" }
  attach app
}
cluster shop {
  capacity serverless { launch fargate }
  task web { task-role app; network awsvpc; launch fargate; runs-on serverless }
}
"""

RISKY = CLEAN.replace(
    'allow s3:GetObject on "arn:aws:s3:::assets/*"', "allow iam:PassRole, ecs:RunTask on *"
)


def _write(folder: Path, text: str, name: str = "shop.pel") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_clean_workspace_exits_zero(tmp_path: Path) -> None:
    _write(tmp_path, CLEAN)
    result = runner.invoke(app, ["audit", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["findings"] == []
    assert document["summary"]["exit_code"] == 0


def test_high_finding_exits_one_and_names_file_line_col(tmp_path: Path) -> None:
    path = _write(tmp_path, RISKY)
    result = runner.invoke(app, ["audit", str(path), "--format", "json"])
    assert result.exit_code == 1
    finding = json.loads(result.stdout)["findings"][0]
    assert finding["code"] == "PE102"
    assert finding["location"] == {
        "path": str(path),
        "line": 2,
        "column": 14,
        "end_line": finding["location"]["end_line"],
        "end_column": finding["location"]["end_column"],
    }


def test_fail_on_critical_lets_high_findings_pass(tmp_path: Path) -> None:
    _write(tmp_path, RISKY)
    result = runner.invoke(app, ["audit", str(tmp_path), "--fail-on", "critical", "-f", "json"])
    assert result.exit_code == 0


def test_input_error_exits_two_after_reporting_the_rest(tmp_path: Path) -> None:
    _write(tmp_path, RISKY)
    _write(tmp_path, "{ not json", "broken.json")
    result = runner.invoke(app, ["audit", str(tmp_path), "-f", "json"])
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert [f["code"] for f in document["findings"]] == ["PE102"]
    assert document["diagnostics"][0]["location"]["path"].endswith("broken.json")


def test_unknown_severity_is_a_usage_error(tmp_path: Path) -> None:
    _write(tmp_path, CLEAN)
    result = runner.invoke(app, ["audit", str(tmp_path), "--fail-on", "loud"])
    assert result.exit_code == 2
    assert "not a severity" in result.stderr


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "markdown"])
def test_every_format_renders_to_output_file(tmp_path: Path, fmt: str) -> None:
    _write(tmp_path / "in", RISKY)
    out = tmp_path / f"report.{fmt}"
    result = runner.invoke(app, ["audit", str(tmp_path / "in"), "-f", fmt, "-o", str(out)])
    assert result.exit_code == 1
    assert "PE102" in out.read_text(encoding="utf-8")


def test_table_shows_markup_in_user_text_literally(tmp_path: Path) -> None:
    """A `[` in user text must not be read as rich markup (STYLE: escape user text)."""
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "NotAction": "[bold]x[/bold]:*", "Resource": "*"}],
    }
    _write(tmp_path, json.dumps(document), "loose.json")
    result = runner.invoke(app, ["audit", str(tmp_path), "--select", "PE104"])
    assert "[bold]x[/bold]" in result.stdout, result.stdout


def test_write_baseline_then_baseline_accepts_existing_findings(tmp_path: Path) -> None:
    _write(tmp_path / "in", RISKY)
    baseline = tmp_path / "baseline.json"
    first = runner.invoke(app, ["audit", str(tmp_path / "in"), "--write-baseline", str(baseline)])
    assert first.exit_code == 0
    assert json.loads(baseline.read_text())["suppressions"][0]["code"] == "PE102"
    second = runner.invoke(
        app, ["audit", str(tmp_path / "in"), "--baseline", str(baseline), "-f", "json"]
    )
    assert second.exit_code == 0, second.output
    document = json.loads(second.stdout)
    assert document["findings"] == []
    assert [s["finding"]["code"] for s in document["suppressed"]] == ["PE102"]


def test_rules_lists_every_code_and_rule_prints_a_page() -> None:
    listed = runner.invoke(app, ["rules"])
    assert listed.exit_code == 0
    assert "PE201" in listed.stdout and "PE490" in listed.stdout
    page = runner.invoke(app, ["rule", "pe201"])
    assert page.exit_code == 0
    for title in ("What it finds", "Why it matters", "Example", "Fix", "References"):
        assert f"### {title}" in page.stdout


def test_unknown_rule_suggests_a_close_code() -> None:
    result = runner.invoke(app, ["rule", "PE2O1"])
    assert result.exit_code == 2
    assert "PE201" in result.stderr


def test_check_reports_only_changed_files_and_failed_expectations(tmp_path: Path) -> None:
    risky = _write(tmp_path, RISKY, "risky.pel")
    clean = _write(
        tmp_path,
        CLEAN.replace("account 111122223333\n", "")
        .replace("policy app", "policy other")
        .replace("attach app", "attach other")
        .replace("role app", "role other")
        .replace("task-role app", "task-role other")
        .replace("cluster shop", "cluster shop2")
        .replace("task web", "task web2"),
        "clean.pel",
    )
    only_clean = runner.invoke(app, ["check", str(clean), "--root", str(tmp_path)])
    assert only_clean.exit_code == 0, only_clean.output
    both = runner.invoke(app, ["check", str(clean), str(risky), "--root", str(tmp_path)])
    assert both.exit_code == 1
    assert "PE102" in both.stdout and f"{risky}:2:" in both.stdout


def test_diff_of_two_folders_fails_on_new_access(tmp_path: Path) -> None:
    _write(tmp_path / "old", CLEAN)
    _write(
        tmp_path / "new", CLEAN.replace("allow s3:GetObject", "allow s3:GetObject, s3:PutObject")
    )
    result = runner.invoke(
        app,
        [
            "diff",
            str(tmp_path / "old"),
            str(tmp_path / "new"),
            "--fail-on-new-access",
            "-f",
            "json",
        ],
    )
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert document["added"] == 1
    added = document["workloads"][0]["added"][0]
    assert (added["action"].lower(), added["resource"]) == ("s3:putobject", "arn:aws:s3:::assets/*")
    same = runner.invoke(
        app, ["diff", str(tmp_path / "old"), str(tmp_path / "old"), "--fail-on-new-access"]
    )
    assert same.exit_code == 0


def test_diff_between_git_revisions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    _write(tmp_path, CLEAN)
    git("add", ".")
    git("commit", "-qm", "one")
    _write(tmp_path, CLEAN.replace("s3:GetObject", "s3:GetObject, s3:DeleteObject"))
    git("commit", "-qam", "two")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["diff", "--git", "HEAD~1", "HEAD", "--fail-on-new-access"])
    assert result.exit_code == 1, result.output
    assert "+ s3:DeleteObject" in result.stdout or "+ s3:deleteobject" in result.stdout.lower()
    worktrees = subprocess.run(
        ["git", "worktree", "list"], cwd=tmp_path, check=True, capture_output=True, text=True
    )
    assert len(worktrees.stdout.strip().splitlines()) == 1  # temporary worktrees removed


def test_unknown_git_revision_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["diff", "--git", "nope", "HEAD"])
    assert result.exit_code == 2


def test_check_ignores_input_errors_in_unchanged_files(tmp_path: Path) -> None:
    clean = _write(tmp_path, CLEAN)
    _write(tmp_path, "{ not json", "broken.json")
    result = runner.invoke(app, ["check", str(clean), "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    everything = runner.invoke(app, ["check", "--root", str(tmp_path)])
    assert everything.exit_code == 2


def test_progress_bar_only_on_a_terminal() -> None:
    """Progress goes to stderr and only when it is a TTY (never into piped output)."""
    from policyeval.auditcli import progress_reporter

    with progress_reporter(True, 3) as step:  # pytest's stderr is not a terminal
        assert step is None
    with progress_reporter(False, 3) as step:
        assert step is None


def test_audit_max_file_size_reports_oversized_input_and_exits_2(tmp_path: Path) -> None:
    big = tmp_path / "policy.json"
    big.write_text('{"Version": "2012-10-17", "Statement": []}')
    result = subprocess.run(
        [sys.executable, "-m", "policyeval", "audit", str(big), "--max-file-size", "10"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert f"{big}:1:1: PE092 error" in result.stderr

"""Suppressions are explicit and visible; stale ones are findings (ruff's RUF100);
baselines are written atomically; the exit code follows `--fail-on`."""

from __future__ import annotations

import json
from pathlib import Path

from policyeval.audit.engine import AuditOptions, AuditResult, run_audit
from policyeval.audit.registry import Finding, get_rule
from policyeval.audit.suppressions import read_baseline, write_baseline
from policyeval.errors import Diagnostic, Severity, Span
from policyeval.model.expect import Suppression
from policyeval.model.topology import Role
from policyeval.model.workspace import Workspace
from tests.rules.build import allow, policy


def _ws(*suppressions: Suppression) -> Workspace:
    role = Role(name="app", inline=(policy("app", allow("*")),))
    return Workspace(roles=(role,), suppressions=suppressions)


def _run(ws: Workspace, baseline: tuple[Suppression, ...] = ()) -> AuditResult:
    rules = [get_rule("PE101"), get_rule("PE490")]
    return run_audit(ws, AuditOptions(baseline=baseline), rules=[r for r in rules if r])


def test_inline_suppression_moves_the_finding_to_suppressed() -> None:
    result = _run(_ws(Suppression("PE101", "break-glass role", "app", Span("a.pel", 4, 3))))
    assert result.findings == ()
    assert [s.finding.code for s in result.suppressed] == ["PE101"]
    assert result.suppressed[0].suppression.reason == "break-glass role"


def test_suppression_for_another_workload_does_not_apply_and_is_stale() -> None:
    result = _run(_ws(Suppression("PE101", "other", "billing", Span("a.pel", 4, 3))))
    assert sorted(f.code for f in result.findings) == ["PE101", "PE490"]
    stale = next(f for f in result.findings if f.code == "PE490")
    assert stale.span == Span("a.pel", 4, 3)


def test_suppression_of_a_rule_not_run_is_not_stale() -> None:
    ws = _ws(Suppression("PE201", "not selected", None, Span("a.pel", 1, 1)))
    assert [f.code for f in _run(ws).findings] == ["PE101"]


def test_baseline_round_trip_accepts_the_same_findings(tmp_path: Path) -> None:
    first = _run(_ws())
    path = tmp_path / "baseline.json"
    write_baseline(path, first.findings)
    entries, problems = read_baseline(path)
    assert problems == []
    again = _run(_ws(), baseline=entries)
    assert again.findings == ()
    assert len(again.suppressed) == 1
    assert json.loads(path.read_text())["schema_version"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["baseline.json"]  # no temporary left


def test_baseline_entry_that_matches_nothing_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    stale = Finding("PE101", Severity.CRITICAL, "x", None, subject="gone", key="*:*")
    write_baseline(path, [stale])
    entries, _ = read_baseline(path)
    result = _run(_ws(), baseline=entries)
    assert sorted(f.code for f in result.findings) == ["PE101", "PE490"]


def test_malformed_baseline_is_a_diagnostic(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text("{not json", encoding="utf-8")
    entries, problems = read_baseline(path)
    assert entries == ()
    assert problems[0].severity is Severity.ERROR
    assert problems[0].span is not None and problems[0].span.path == str(path)


def test_exit_code_follows_fail_on_and_input_errors_win() -> None:
    finding = Finding("PE206", Severity.MEDIUM, "m")
    result = AuditResult(findings=(finding,), diagnostics=())
    assert result.exit_code("high") == 0
    assert result.exit_code("medium") == 1
    assert result.exit_code(Severity.LOW) == 1
    error = Diagnostic("PE041", Severity.ERROR, "bad", Span("x.json", 1, 1))
    assert AuditResult(findings=(finding,), diagnostics=(error,)).exit_code("medium") == 2
    assert AuditResult(findings=(), diagnostics=()).exit_code("info") == 0

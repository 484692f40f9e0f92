"""`--format markdown`: a compact report for pull-request comments."""

from __future__ import annotations

import json

from policyeval.audit.engine import AuditResult
from policyeval.errors import Severity, Span

_ICON = {
    Severity.CRITICAL: "🟥",
    Severity.HIGH: "🟧",
    Severity.MEDIUM: "🟨",
    Severity.LOW: "🟦",
    Severity.INFO: "⬜",
    Severity.ERROR: "❌",
}


def _cell(text: str) -> str:
    """Text safe in a table cell: pipes escaped, newlines flattened, HTML neutralised."""
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", " ")
        .replace("\n", " ")
    )


def _where(span: Span | None) -> str:
    return f"`{_cell(str(span))}`" if span else ""


def render_markdown(result: AuditResult, fail_on: Severity = Severity.HIGH) -> str:
    counts = result.counts()
    code = result.exit_code(fail_on)
    verdict = {0: "✅ passed", 1: "❌ failed", 2: "⚠️ input errors"}[code]
    out = [
        "## policyeval audit",
        "",
        f"**{verdict}** (fail on {fail_on.value} and above) — "
        + ", ".join(f"{n} {k}" for k, n in counts.items() if n)
        + ("" if any(counts.values()) else "no findings"),
        "",
    ]
    if result.findings:
        out += ["| | code | workload | finding | where |", "|---|---|---|---|---|"]
        for f in result.findings:
            out.append(
                f"| {_ICON[f.severity]} {f.severity.value} | {f.code} | "
                f"{_cell(f.workload or f.subject or '')} | {_cell(f.message)} | {_where(f.span)} |"
            )
        out.append("")
    fixes = [f for f in result.findings if f.fix]
    for f in fixes:
        out += [
            f"<details><summary>{f.code} suggested policy for {_cell(f.workload or '')}</summary>",
            "",
            "```json",
            json.dumps(json.loads(f.fix or "{}"), indent=2),
            "```",
            "",
            "</details>",
            "",
        ]
    if result.diagnostics:
        out += ["### Input problems", ""]
        for d in result.diagnostics:
            out.append(f"- {_where(d.span)} {d.code} {_cell(d.message)}")
        out.append("")
    if result.suppressed:
        out.append(f"{len(result.suppressed)} finding(s) suppressed explicitly.")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"

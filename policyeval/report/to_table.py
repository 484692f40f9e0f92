"""The terminal report: per workload, its own credential next to the host credentials it
can reach, then its findings; findings about policies and roles follow.

Every piece of user text goes through `rich.markup.escape` or `Text`, so a `[` in an ARN
or a condition value is shown as typed, never read as markup; `printable` turns control
characters (ESC, BEL) into U+FFFD so input cannot drive the terminal.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from policyeval.audit.engine import AuditResult, SourceSummary, WorkloadSummary
from policyeval.audit.registry import Finding
from policyeval.errors import Severity, printable

_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
    Severity.ERROR: "bold red",
}
_HOST = ("instance-profile", "node-role", "host-role")


def _reach(value: bool | str) -> Text:
    if value is True:
        return Text("reachable", style="red")
    if value is False:
        return Text("blocked", style="green")
    return Text("unknown", style="yellow")


def _sources_cell(sources: list[SourceSummary]) -> Text:
    out = Text()
    for i, s in enumerate(sources):
        if i:
            out.append("\n")
        out.append(f"{s.kind} ")
        out.append(printable(s.role or "(none)"), style="bold")
        out.append(" ")
        if s.kind == "execution-role" and s.reachable is False:
            out.append("agent only", style="dim")
        else:
            out.append_text(_reach(s.reachable))
    return out if sources else Text("—", style="dim")


def _finding_line(f: Finding) -> Text:
    line = Text()
    line.append(f"{f.severity.value:<8}", style=_STYLE[f.severity])
    line.append(f" {f.code} ", style="bold")
    line.append(printable(f.message))
    if f.span is not None:
        line.append(printable(f"\n           at {f.span}"), style="dim")
    for s in [s for s in f.statements if s != f.span][:3]:
        line.append(printable(f"\n           granted at {s}"), style="dim")
    if f.help:
        line.append(printable(f"\n           help: {f.help}"), style="dim")
    return line


def _workload_table(w: WorkloadSummary) -> Table:
    table = Table(
        title=Text(printable(f"{w.kind} {w.id}"), style="bold"),
        title_justify="left",
        expand=False,
        show_lines=False,
    )
    table.add_column("own credential")
    table.add_column("host credentials")
    table.add_column("why", overflow="fold")
    own = [s for s in w.sources if s.kind not in _HOST]
    host = [s for s in w.sources if s.kind in _HOST]
    reasons = "\n".join(r for s in host for r in s.reasons) or "\n".join(
        r for s in own for r in s.reasons
    )
    table.add_row(_sources_cell(own), _sources_cell(host), Text(printable(reasons)))
    return table


def render_table(result: AuditResult, console: Console, fail_on: Severity = Severity.HIGH) -> None:
    """Print the report to `console`."""
    by_workload: dict[str, list[Finding]] = {}
    other: list[Finding] = []
    known = {w.id for w in result.workloads}
    for f in result.findings:
        if f.workload is not None and f.workload in known:
            by_workload.setdefault(f.workload, []).append(f)
        else:
            other.append(f)
    for w in result.workloads:
        findings = by_workload.get(w.id, [])
        if w.kind == "container" and not findings:
            continue
        console.print(_workload_table(w))
        for f in findings:
            console.print(_finding_line(f))
        console.print()
    if other:
        console.print(Text("policies, roles and resources", style="bold underline"))
        for f in other:
            subject = f.workload or f.subject
            if subject:
                console.print(Text(printable(f"[{subject}]"), style="dim"), end=" ")
            console.print(_finding_line(f))
        console.print()
    counts = result.counts()
    summary = ", ".join(f"{n} {k}" for k, n in counts.items() if n) or "no findings"
    code = result.exit_code(fail_on)
    verdict = {0: "[green]passed[/]", 1: "[red]failed[/]", 2: "[red]input errors[/]"}[code]
    console.print(
        f"{verdict}: {escape(summary)}; {len(result.suppressed)} suppressed; "
        f"{len(result.diagnostics)} input problem(s); fail on {fail_on.value}"
    )


def render_table_text(
    result: AuditResult, fail_on: Severity = Severity.HIGH, width: int = 100
) -> str:
    """The report as plain text (no colour), for golden files and non-terminals."""
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, color_system=None, force_terminal=False, highlight=False
    )
    render_table(result, console, fail_on)
    return buffer.getvalue()

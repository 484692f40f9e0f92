"""Effective permissions as a terminal table or JSON (`policyeval effective`)."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from policyeval.errors import printable
from policyeval.resolver.credentials import HOST_SOURCES
from policyeval.resolver.effective import EffectiveReport, WorkloadPermissions


def render_effective_json(report: EffectiveReport) -> str:
    """The stable JSON shape (`schema_version`), indented, keys in a fixed order."""
    # pydantic-core (pydantic's own serializer) writes the same text as `json.dumps(...,
    # indent=2, ensure_ascii=False)` for these plain dicts, lists, strings, integers,
    # booleans and nulls, several times faster: `json.dumps` is pure Python with `indent`,
    # and a big estate's report holds millions of grants.
    from pydantic_core import to_json

    return to_json(report.to_dict(), indent=2).decode("utf-8") + "\n"


def _text(value: str, style: str = "") -> Text:
    """A table cell from input text: never read as markup, control characters escaped."""
    return Text(printable(value), style=style)


def _reach_cell(reachable: object, host: bool) -> Text:
    if reachable is True:
        return _text("REACHABLE" if host else "yes", style="bold red" if host else "green")
    if reachable is False:
        return _text("no", style="dim")
    return _text("unknown", style="yellow")


def _workload_tables(w: WorkloadPermissions) -> list[Table | Text]:
    out: list[Table | Text] = [
        _text(f"{w.id}  ({w.kind.value}, {w.platform.value})", style="bold"),
    ]
    creds = Table(title="credentials", title_justify="left", show_lines=False, expand=False)
    for column in ("source", "role", "reachable", "reason"):
        creds.add_column(column, overflow="fold")
    for c in w.credentials:
        creds.add_row(
            _text(c.source.value),
            _text(c.role or "-"),
            _reach_cell(c.reachable, c.source in HOST_SOURCES),
            _text(c.reason),
        )
    out.append(creds)
    allowed = Table(title="allowed", title_justify="left")
    for column in ("service", "access level", "action", "resource", "source", "condition keys"):
        allowed.add_column(column, overflow="fold")
    for service, levels in w.by_service().items():
        for level, grants in levels.items():
            for g in grants:
                allowed.add_row(
                    _text(service),
                    _text(level.value),
                    _text(g.action),
                    _text(g.resource),
                    _text(g.source.value, style="bold red" if g.source in HOST_SOURCES else ""),
                    _text(", ".join(g.keys) if g.conditional else ""),
                )
    if not w.allowed:
        out.append(_text("allowed: nothing"))
    else:
        out.append(allowed)
    if w.unknown_actions:
        unknown = Table(title="actions not in the catalog", title_justify="left")
        for column in ("action", "source", "outcome", "reason"):
            unknown.add_column(column, overflow="fold")
        for u in w.unknown_actions:
            unknown.add_row(
                _text(u.action), _text(u.source.value), _text(u.outcome), _text(u.reason)
            )
        out.append(unknown)
    for note in w.notes:
        out.append(_text(f"note: {note}", style="yellow"))
    return out


def render_effective_table(
    report: EffectiveReport, *, width: int = 160, color: bool = False
) -> str:
    """Per workload: its credential sources, then its grants by service and access level."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
    )
    for index, w in enumerate(report.workloads):
        if index:
            console.print()
        for part in _workload_tables(w):
            console.print(part)
    if not report.workloads:
        console.print(_text("no workloads in the inputs"))
    return buffer.getvalue()

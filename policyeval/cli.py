"""The command line: options → library call → renderer → exit code. No logic lives here.

Heavy modules are imported inside each command so that `policyeval check` starts fast.
Exit codes: 0 clean, 1 findings at or above `--fail-on`, 2 usage, input or internal error.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from policyeval.model.workspace import Workspace

app = typer.Typer(
    name="policyeval",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    help="Evaluate AWS IAM policies as AWS does; tell what each workload can really do.",
)

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


# -- commands are defined below, one section per command ---------------------------------


@app.callback()
def _root() -> None:
    """Evaluate AWS IAM policies as AWS does; tell what each ECS / EKS / Lambda workload can do."""


class EvalFormat(StrEnum):
    table = "table"
    json = "json"


# -- eval --------------------------------------------------------------------------------------


@app.command("eval")
def eval_command(
    principal: Annotated[
        str | None, typer.Option(help="principal ARN, service principal or `anonymous`")
    ] = None,
    action: Annotated[str | None, typer.Option(help="the action, e.g. s3:GetObject")] = None,
    resource: Annotated[str | None, typer.Option(help="the resource ARN")] = None,
    context: Annotated[
        list[str] | None,
        typer.Option("--context", "-c", help="KEY=VALUE; repeat a key for several values"),
    ] = None,
    identity: Annotated[
        list[Path] | None,
        typer.Option("--identity", "-i", help="identity policy file (repeatable)"),
    ] = None,
    boundary: Annotated[Path | None, typer.Option(help="permissions boundary file")] = None,
    session: Annotated[Path | None, typer.Option(help="session policy file")] = None,
    resource_policy: Annotated[
        Path | None, typer.Option("--resource-policy", help="resource-based policy file")
    ] = None,
    scp: Annotated[
        list[Path] | None,
        typer.Option(help="SCP file; each use is one organisation level, root first"),
    ] = None,
    rcp: Annotated[
        list[Path] | None,
        typer.Option(help="RCP file; each use is one organisation level, root first"),
    ] = None,
    resource_account: Annotated[
        str | None, typer.Option("--resource-account", help="account that owns the resource")
    ] = None,
    cases: Annotated[
        str | None, typer.Option(help="JSON Lines file of cases, or - for stdin")
    ] = None,
    output_format: Annotated[
        EvalFormat, typer.Option("--format", help="output format")
    ] = EvalFormat.table,
) -> None:
    """Decide one request (with an explanation), or a batch of cases with --cases."""
    from policyeval import evalcli

    if cases is not None:
        raise typer.Exit(evalcli.run_cases(cases))
    code = evalcli.run_one(
        principal=principal,
        action=action,
        resource=resource,
        context=context or [],
        identity=identity or [],
        boundary=boundary,
        session=session,
        resource_policy=resource_policy,
        scps=scp or [],
        rcps=rcp or [],
        resource_account=resource_account,
        as_json=output_format is EvalFormat.json,
    )
    raise typer.Exit(code)


# -- audit, check, diff, rules, rule (owned by the audit) -------------------------------------


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"
    markdown = "markdown"


class DiffFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


# -- input limits (hardening): shared by every command that reads input files ---------------

MaxFileSizeOption = Annotated[
    str | None,
    typer.Option(
        "--max-file-size",
        help="largest input file read, e.g. 64M (default 64M; .pel files 8M); "
        "larger files are reported as PE092 / PE005 and skipped",
    ),
]
AllowOutsideOption = Annotated[
    bool,
    typer.Option(
        "--allow-outside-imports",
        help="let .pel imports read files outside the project folder (PE028 otherwise)",
    ),
]


def parse_size(text: str) -> int:
    """`65536`, `64K`, `64M`, `1G` (binary units, case-insensitive) → bytes."""
    from policyeval.limits import parse_size as parse

    size = parse(text)
    if size is None:
        raise typer.BadParameter(
            f"`{text}` is not a size such as 64M", param_hint="--max-file-size"
        )
    return size


@app.command("audit")
def audit_command(
    paths: Annotated[list[Path] | None, typer.Argument(help="files or folders to audit")] = None,
    output_format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="output format")
    ] = ReportFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write here")] = None,
    fail_on: Annotated[
        str, typer.Option("--fail-on", help="exit 1 on findings at or above this severity")
    ] = "high",
    baseline: Annotated[
        Path | None, typer.Option(help="baseline file of accepted findings")
    ] = None,
    write_baseline: Annotated[
        Path | None,
        typer.Option("--write-baseline", help="write the current findings as a baseline"),
    ] = None,
    needs: Annotated[
        Path | None, typer.Option(help="needs file: workload id → actions it needs")
    ] = None,
    select: Annotated[
        list[str] | None, typer.Option(help="only rules with this code prefix (repeatable)")
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option(help="skip rules with this code prefix (repeatable)")
    ] = None,
    progress: Annotated[bool, typer.Option(help="progress bar on a terminal")] = True,
    max_file_size: MaxFileSizeOption = None,
    allow_outside_imports: AllowOutsideOption = False,
) -> None:
    """Audit workloads and policies; report findings with file:line:col."""
    from policyeval import auditcli

    raise typer.Exit(
        auditcli.run_audit_command(
            paths=paths or [],
            output_format=output_format.value,
            output=output,
            fail_on=fail_on,
            baseline=baseline,
            write_baseline=write_baseline,
            needs_file=needs,
            select=select or [],
            ignore=ignore or [],
            progress=progress,
            max_bytes=parse_size(max_file_size) if max_file_size is not None else None,
            allow_outside=allow_outside_imports,
        )
    )


@app.command("check")
def check_command(
    files: Annotated[
        list[Path] | None, typer.Argument(help="changed files (all findings when none)")
    ] = None,
    root: Annotated[Path, typer.Option(help="the workspace to load")] = Path("."),
    fail_on: Annotated[str, typer.Option("--fail-on", help="severity that fails")] = "high",
    max_file_size: MaxFileSizeOption = None,
    allow_outside_imports: AllowOutsideOption = False,
) -> None:
    """The fast pre-commit gate: findings in the changed files and failed expectations."""
    from policyeval import auditcli

    raise typer.Exit(
        auditcli.run_check_command(
            files=files or [],
            root=root,
            fail_on=fail_on,
            max_bytes=parse_size(max_file_size) if max_file_size is not None else None,
            allow_outside=allow_outside_imports,
        )
    )


@app.command("diff")
def diff_command(
    old: Annotated[str | None, typer.Argument(help="old folder")] = None,
    new: Annotated[str | None, typer.Argument(help="new folder")] = None,
    git: Annotated[
        tuple[str, str] | None,
        typer.Option("--git", help="compare two git revisions: --git REV1 REV2"),
    ] = None,
    path: Annotated[
        list[str] | None, typer.Option("--path", help="with --git: paths inside the repo")
    ] = None,
    output_format: Annotated[
        DiffFormat, typer.Option("--format", "-f", help="output format")
    ] = DiffFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write here")] = None,
    fail_on_new_access: Annotated[
        bool, typer.Option("--fail-on-new-access", help="exit 1 when access was added")
    ] = False,
) -> None:
    """Access added and removed per workload between two versions."""
    from policyeval import auditcli

    raise typer.Exit(
        auditcli.run_diff_command(
            old=old,
            new=new,
            git=list(git) if git else None,
            paths=path or [],
            output_format=output_format.value,
            output=output,
            fail_on_new_access=fail_on_new_access,
        )
    )


@app.command("rules")
def rules_command() -> None:
    """List the audit rules."""
    from policyeval import auditcli

    raise typer.Exit(auditcli.run_rules_command())


@app.command("rule")
def rule_command(
    code: Annotated[str, typer.Argument(help="rule code or name, e.g. PE201")],
) -> None:
    """Show one rule's documentation page."""
    from policyeval import auditcli

    raise typer.Exit(auditcli.run_rule_command(code))


# -- effective and graph (credential reachability) --------------------------------------------


class EffectiveFormat(StrEnum):
    table = "table"
    json = "json"


class GraphFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"


def _load_workspace(
    paths: list[Path], max_file_size: str | None = None, allow_outside_imports: bool = False
) -> tuple[Workspace, int]:
    """Load PATHS; diagnostics go to stderr. Returns the workspace and 2 when input had errors."""
    from policyeval.errors import Severity, render_plain, sorted_diagnostics

    try:
        from policyeval.sources import (  # type: ignore[import-not-found,unused-ignore]
            MAX_FILE_BYTES,
            load_paths,
        )
    except ImportError:
        sys.stderr.write("policyeval: reading input files is not available in this build\n")
        raise typer.Exit(EXIT_ERROR) from None
    workspace: Workspace = load_paths(
        [str(p) for p in paths],
        max_bytes=parse_size(max_file_size) if max_file_size is not None else MAX_FILE_BYTES,
        allow_outside=allow_outside_imports,
        jobs=min(2, os.cpu_count() or 1),
    )
    code = EXIT_CLEAN
    for diagnostic in sorted_diagnostics(workspace.diagnostics):
        sys.stderr.write(render_plain(diagnostic, workspace.sources) + "\n")
        if diagnostic.severity is Severity.ERROR:
            code = EXIT_ERROR
    return workspace, code


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


@app.command("effective")
def effective_command(
    paths: Annotated[list[Path], typer.Argument(help="input files or folders")],
    workload: Annotated[
        str | None, typer.Option("--workload", help="only this workload, e.g. web/app")
    ] = None,
    output_format: Annotated[
        EffectiveFormat, typer.Option("--format", help="output format")
    ] = EffectiveFormat.table,
    output: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
    max_file_size: MaxFileSizeOption = None,
    allow_outside_imports: AllowOutsideOption = False,
) -> None:
    """What each workload can do: its credential sources and their grants, by service."""
    from policyeval.api import effective_permissions
    from policyeval.errors import PolicyevalError, render_plain
    from policyeval.report.effective_out import render_effective_json, render_effective_table

    workspace, code = _load_workspace(paths, max_file_size, allow_outside_imports)
    try:
        report = effective_permissions(workspace, workload)
    except PolicyevalError as exc:
        for diagnostic in exc.diagnostics:
            sys.stderr.write(render_plain(diagnostic) + "\n")
        raise typer.Exit(EXIT_ERROR) from None
    if output_format is EffectiveFormat.json:
        _write(render_effective_json(report), output)
    else:
        _write(render_effective_table(report, color=output is None and sys.stdout.isatty()), output)
    raise typer.Exit(code)


@app.command("graph")
def graph_command(
    paths: Annotated[list[Path], typer.Argument(help="input files or folders")],
    output_format: Annotated[
        GraphFormat, typer.Option("--format", help="graph language")
    ] = GraphFormat.mermaid,
    output: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
    max_file_size: MaxFileSizeOption = None,
    allow_outside_imports: AllowOutsideOption = False,
) -> None:
    """Credential reachability: workload → credential source → role → policies."""
    from policyeval.report.to_graph import render_graph_dot, render_graph_mermaid
    from policyeval.resolver.credentials import resolve_credentials

    workspace, code = _load_workspace(paths, max_file_size, allow_outside_imports)
    workloads = resolve_credentials(workspace)
    if output_format is GraphFormat.dot:
        _write(render_graph_dot(workloads), output)
    else:
        _write(render_graph_mermaid(workloads), output)
    raise typer.Exit(code)


# -- fmt and convert (.pel language) ------------------------------------------------------


class ConvertTarget(StrEnum):
    json = "json"
    pel = "pel"


@app.command("fmt")
def fmt_command(
    paths: Annotated[list[Path], typer.Argument(help=".pel files or folders")],
    check: Annotated[
        bool, typer.Option("--check", help="change nothing; exit 1 if a file would change")
    ] = False,
) -> None:
    """Rewrite .pel files in canonical layout (comments kept)."""
    from policyeval import pelcli

    raise typer.Exit(pelcli.run_fmt(paths, check))


@app.command("convert")
def convert_command(
    file: Annotated[Path, typer.Argument(help="a .pel file or an IAM JSON policy file")],
    to: Annotated[
        ConvertTarget | None, typer.Option("--to", help="output language (default: the other)")
    ] = None,
    policy: Annotated[
        str | None, typer.Option("--policy", help="which policy of a .pel file to convert")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write here")] = None,
) -> None:
    """Convert a .pel policy to IAM JSON, or an IAM JSON policy to .pel."""
    from policyeval import pelcli

    raise typer.Exit(pelcli.run_convert(file, to.value if to else None, policy, output))


def main() -> None:
    """Entry point (see `policyeval.entry.main`)."""
    from policyeval.entry import main as entry_main

    entry_main()

"""What `policyeval audit`, `check`, `diff`, `rules` and `rule` do.

Kept out of `cli.py` so the CLI module stays a thin layer of options and so that nothing
heavy is imported before a command runs. Results go to stdout (or `--output`);
diagnostics and progress go to stderr, progress only when stderr is a terminal.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from policyeval.errors import Diagnostic, Severity, SourceText, Span, render_plain
from policyeval.model.expect import Need

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


def _usage(message: str) -> int:
    sys.stderr.write(f"policyeval: error: {message}\n")
    return EXIT_ERROR


def _severity(name: str) -> Severity | None:
    try:
        severity = Severity(name.lower())
    except ValueError:
        return None
    return None if severity is Severity.ERROR else severity


def _write(text: str, output: Path | None) -> int:
    if output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        return _usage(f"cannot write `{output}`: {exc.strerror or exc}")
    return EXIT_OK


def print_diagnostics(diagnostics: Sequence[Diagnostic], sources: SourceText | None) -> None:
    for d in diagnostics:
        sys.stderr.write(render_plain(d, sources) + "\n")


@contextmanager
def progress_reporter(enabled: bool, total: int) -> Iterator[Callable[[str], None] | None]:
    """A rich progress bar on stderr when it is a terminal; nothing otherwise."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn

    with Progress(
        TextColumn("auditing {task.description}"),
        BarColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("rules", total=total)

        def step(code: str) -> None:
            bar.update(task, advance=1, description=code)

        yield step


def read_needs(path: Path) -> tuple[dict[str, list[Need]], list[Diagnostic]]:
    """A needs file: a JSON or YAML mapping of workload id → list of `action` strings or
    `{action, resources}` objects."""
    where = Span(str(path), 1, 1)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return {}, [Diagnostic("PE089", Severity.ERROR, f"cannot read needs file: {exc}", where)]
    import yaml

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}, [Diagnostic("PE089", Severity.ERROR, "needs file is not JSON or YAML", where)]
    if not isinstance(document, dict):
        return {}, [
            Diagnostic("PE089", Severity.ERROR, "needs file must map workload ids to lists", where)
        ]
    needs: dict[str, list[Need]] = {}
    problems: list[Diagnostic] = []
    for workload, entries in document.items():
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, str):
                needs.setdefault(str(workload), []).append(Need(entry))
            elif isinstance(entry, dict) and isinstance(entry.get("action"), str):
                res = entry.get("resources", ["*"])
                resources = tuple(str(r) for r in (res if isinstance(res, list) else [res]))
                needs.setdefault(str(workload), []).append(Need(entry["action"], resources))
            else:
                problems.append(
                    Diagnostic(
                        "PE089",
                        Severity.ERROR,
                        f"need of `{workload}` is neither an action nor {{action, resources}}",
                        where,
                    )
                )
    return needs, problems


# -- audit -------------------------------------------------------------------------------


def run_audit_command(
    *,
    paths: Sequence[Path],
    output_format: str,
    output: Path | None,
    fail_on: str,
    baseline: Path | None,
    write_baseline: Path | None,
    needs_file: Path | None,
    select: Sequence[str],
    ignore: Sequence[str],
    progress: bool,
    max_bytes: int | None = None,
    allow_outside: bool = False,
) -> int:
    threshold = _severity(fail_on)
    if threshold is None:
        return _usage(
            f"`--fail-on {fail_on}` is not a severity (critical, high, medium, low, info)"
        )
    from dataclasses import replace

    from policyeval.audit.engine import AuditOptions, run_audit, selected_rules
    from policyeval.audit.run import load
    from policyeval.audit.suppressions import read_baseline
    from policyeval.audit.suppressions import write_baseline as write_file
    from policyeval.report.render import render

    workspace = load(
        list(paths) or [Path(".")],
        max_bytes=max_bytes,
        allow_outside=allow_outside,
        jobs=min(2, os.cpu_count() or 1),
    )
    extra: list[Diagnostic] = []
    needs: dict[str, list[Need]] = {}
    if needs_file is not None:
        needs, problems = read_needs(needs_file)
        extra += problems
    suppressions: tuple[object, ...] = ()
    if baseline is not None:
        suppressions, problems = read_baseline(baseline)
        extra += problems
    if extra:
        workspace = replace(workspace, diagnostics=workspace.diagnostics + tuple(extra))
    options = AuditOptions(
        needs=tuple((k, tuple(v)) for k, v in needs.items()),
        select=tuple(s.upper() for s in select),
        ignore=tuple(s.upper() for s in ignore),
        baseline=suppressions,  # type: ignore[arg-type]
    )
    with progress_reporter(progress, len(selected_rules(options))) as step:
        result = run_audit(workspace, options, progress=step)
    print_diagnostics(result.diagnostics, workspace.sources)
    if write_baseline is not None:
        write_file(write_baseline, result.findings)
        sys.stderr.write(
            f"policyeval: wrote {len(result.findings)} finding(s) to baseline `{write_baseline}`\n"
        )
        return EXIT_ERROR if result.exit_code(threshold) == EXIT_ERROR else EXIT_OK
    if output_format == "table" and output is None:
        from rich.console import Console

        from policyeval.report.to_table import render_table

        render_table(result, Console(highlight=False), threshold)
        code = EXIT_OK
    else:
        code = _write(render(result, output_format, fail_on=threshold), output)
    return code if code != EXIT_OK else result.exit_code(threshold)


# -- check -------------------------------------------------------------------------------


def _norm(path: str, root: Path) -> str:
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = root / candidate
    return os.path.normpath(os.path.abspath(candidate))


def run_check_command(
    *,
    files: Sequence[Path],
    root: Path,
    fail_on: str,
    max_bytes: int | None = None,
    allow_outside: bool = False,
) -> int:
    """The pre-commit gate: the whole workspace is loaded (a policy file changes what the
    roles that attach it can do); findings and input errors are kept when they point into
    a changed file, failed expectations always. Plain compiler-style output."""
    threshold = _severity(fail_on)
    if threshold is None:
        return _usage(f"`--fail-on {fail_on}` is not a severity")
    from dataclasses import replace

    from policyeval.audit.engine import AuditOptions, run_audit
    from policyeval.audit.run import load

    workspace = load(
        [root], max_bytes=max_bytes, allow_outside=allow_outside, jobs=min(2, os.cpu_count() or 1)
    )
    result = run_audit(workspace, AuditOptions())
    if files:
        changed = {_norm(str(f), Path.cwd()) for f in files}

        def touched(span: Span | None) -> bool:
            return span is not None and _norm(span.path, Path.cwd()) in changed

        findings = tuple(f for f in result.findings if f.code.startswith("PE4") or touched(f.span))
        diagnostics = tuple(d for d in result.diagnostics if d.span is None or touched(d.span))
        result = replace(result, findings=findings, diagnostics=diagnostics)
    print_diagnostics(result.diagnostics, workspace.sources)
    for f in result.findings:
        sys.stdout.write(render_plain(f.to_diagnostic(), workspace.sources) + "\n")
    code = result.exit_code(threshold)
    counts = ", ".join(f"{n} {k}" for k, n in result.counts().items() if n) or "no findings"
    sys.stdout.write(f"policyeval check: {counts}; fail on {threshold.value}\n")
    return code


# -- rules -------------------------------------------------------------------------------


def run_rules_command() -> int:
    from policyeval.audit.registry import all_rules

    for r in all_rules():
        sys.stdout.write(f"{r.code}  {r.severity.value:<8}  {r.name}\n")
    return EXIT_OK


def run_rule_command(code: str) -> int:
    from policyeval.audit.registry import all_rules, get_rule

    found = get_rule(code)
    if found is None:
        import difflib

        names = [r.code for r in all_rules()] + [r.name for r in all_rules()]
        close = difflib.get_close_matches(code, names, n=1)
        hint = f"; did you mean `{close[0]}`?" if close else ""
        return _usage(f"no rule `{code}`{hint} (`policyeval rules` lists them)")
    sys.stdout.write(found.page())
    return EXIT_OK


# -- diff --------------------------------------------------------------------------------


def run_diff_command(
    *,
    old: str | None,
    new: str | None,
    git: Sequence[str] | None,
    paths: Sequence[str],
    output_format: str,
    output: Path | None,
    fail_on_new_access: bool,
) -> int:
    from policyeval import diff as diff_module

    try:
        if git:
            if len(git) != 2:
                return _usage("`--git` takes two revisions, e.g. `--git main HEAD`")
            result = diff_module.diff_git(git[0], git[1], paths or ["."])
        else:
            if old is None or new is None:
                return _usage("give two folders (OLD NEW) or `--git REV1 REV2`")
            result = diff_module.diff_paths([old], [new])
    except diff_module.DiffError as exc:
        return _usage(str(exc))
    print_diagnostics(result.diagnostics, None)
    text = (
        diff_module.render_json(result)
        if output_format == "json"
        else diff_module.render_markdown(result)
        if output_format == "markdown"
        else diff_module.render_text(result)
    )
    code = _write(text, output)
    if code != EXIT_OK:
        return code
    if any(d.severity is Severity.ERROR for d in result.diagnostics):
        return EXIT_ERROR
    if fail_on_new_access and result.added_count:
        return EXIT_FINDINGS
    return EXIT_OK

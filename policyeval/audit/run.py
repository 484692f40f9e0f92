"""The audit as one library call: load, run the rules, apply baselines; and rendering.

Behind `policyeval.api.audit` / `policyeval.api.render`; never prints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from os import PathLike, fspath

from policyeval.audit.engine import AuditOptions, AuditResult, run_audit
from policyeval.audit.suppressions import read_baseline
from policyeval.errors import Diagnostic, Severity
from policyeval.model.expect import Need, Suppression
from policyeval.model.workspace import Workspace


def load(
    paths: Sequence[str | PathLike[str]],
    *,
    max_bytes: int | None = None,
    allow_outside: bool = False,
    jobs: int = 1,
) -> Workspace:
    """Every input under `paths`, merged; unreadable inputs become diagnostics. `max_bytes`
    None keeps the default file-size limit; `jobs` 2 reads large inputs on two processes."""
    from policyeval.sources import MAX_FILE_BYTES, load_paths

    return load_paths(
        [fspath(p) for p in paths],
        max_bytes=MAX_FILE_BYTES if max_bytes is None else max_bytes,
        allow_outside=allow_outside,
        jobs=jobs,
    )


def audit(
    paths_or_workspace: Workspace | str | PathLike[str] | Sequence[str | PathLike[str]],
    *,
    fail_on: Severity | str = "high",
    baseline: str | PathLike[str] | None = None,
    needs: Mapping[str, Sequence[Need]] | None = None,
    select: tuple[str, ...] = (),
    ignore: tuple[str, ...] = (),
    only_paths: tuple[str, ...] | None = None,
    progress: Callable[[str], None] | None = None,
) -> AuditResult:
    """See `policyeval.api.audit`. `fail_on` is validated here so misuse fails early."""
    Severity(fail_on)
    if isinstance(paths_or_workspace, Workspace):
        workspace = paths_or_workspace
    elif isinstance(paths_or_workspace, (str, PathLike)):
        workspace = load([paths_or_workspace])
    else:
        workspace = load(list(paths_or_workspace))
    suppressions: tuple[Suppression, ...] = ()
    problems: list[Diagnostic] = []
    if baseline is not None:
        suppressions, problems = read_baseline(baseline)
    if problems:
        from dataclasses import replace

        workspace = replace(workspace, diagnostics=workspace.diagnostics + tuple(problems))
    options = AuditOptions(
        needs=tuple((k, tuple(v)) for k, v in (needs or {}).items()),
        select=select,
        ignore=ignore,
        only_paths=only_paths,
        baseline=suppressions,
    )
    return run_audit(workspace, options, progress=progress)

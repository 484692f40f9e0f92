"""The library's functions behind `policyeval/__init__.py`. Calls return values and never print."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from os import PathLike
from typing import TYPE_CHECKING

from policyeval.compiler.compiled import CompiledPolicySet, PolicySet, compile_policies
from policyeval.evaluator.decision import Decision
from policyeval.evaluator.engine import evaluate as _evaluate
from policyeval.evaluator.request import Request

if TYPE_CHECKING:
    from policyeval.audit.engine import AuditResult
    from policyeval.errors import Severity
    from policyeval.model.expect import Need
    from policyeval.model.workspace import Workspace
    from policyeval.resolver.effective import EffectiveReport

# -- loading ---------------------------------------------------------------------------------


def load(paths: str | PathLike[str] | Sequence[str | PathLike[str]]) -> Workspace:
    """Every input under the given files or folders, merged into one Workspace; problems
    come back as `Workspace.diagnostics`, sorted by position."""
    from policyeval.sources import load_paths

    items = [paths] if isinstance(paths, (str, PathLike)) else list(paths)
    return load_paths([str(p) for p in items])


def parse_pel(text: str, path: str = "<input>") -> Workspace:
    """A `.pel` text as a Workspace (imports resolve against the current folder)."""
    from policyeval.pel import load_pel_text

    return load_pel_text(text, path)


def format_pel(text: str, path: str = "<input>") -> str:
    """The canonical layout of `.pel` text, comments kept; raises `PolicyevalError` when the
    text does not parse."""
    from policyeval.syntax.formatter import format_pel as _format

    return _format(text, path)


# -- evaluation ------------------------------------------------------------------------------


def evaluate(
    policies: CompiledPolicySet | PolicySet,
    request: Request | None = None,
    *,
    principal: str | None = None,
    action: str | None = None,
    resource: str | None = None,
    context: Mapping[str, str | tuple[str, ...] | list[str]] | None = None,
    unknown_keys: frozenset[str] | set[str] = frozenset(),
    context_complete: bool = True,
    resource_account: str | None = None,
) -> Decision:
    """Decide one request. Pass a compiled set (from `compile_policies`) to serve many requests
    cheaply; pass a `Request`, or its fields as keywords."""
    compiled = policies if isinstance(policies, CompiledPolicySet) else compile_policies(policies)
    if request is None:
        if principal is None or action is None or resource is None:
            raise TypeError("evaluate needs a Request or principal, action and resource")
        values = {
            key: (value,) if isinstance(value, str) else tuple(value)
            for key, value in (context or {}).items()
        }
        request = Request(
            principal,
            action,
            resource,
            values,
            resource_account,
            frozenset(unknown_keys),
            context_complete,
        )
    return _evaluate(compiled, request)


# -- audit and render (owned by the audit) ------------------------------------------------------


def audit(
    paths_or_workspace: Workspace | str | PathLike[str] | Sequence[str | PathLike[str]],
    *,
    fail_on: Severity | str = "high",
    baseline: str | PathLike[str] | None = None,
    needs: Mapping[str, Sequence[Need]] | None = None,
    select: tuple[str, ...] = (),
    ignore: tuple[str, ...] = (),
    only_paths: tuple[str, ...] | None = None,
) -> AuditResult:
    """Audit a workspace (or the inputs under the given paths); never prints.

    Input problems are diagnostics inside the result; `result.exit_code(fail_on)` is the
    CLI's exit code (0 clean, 1 findings at or above `fail_on`, 2 input errors). `needs`
    maps workload ids to declared needs (from a needs file or recorded usage).
    """
    from policyeval.audit.run import audit as _audit

    return _audit(
        paths_or_workspace,
        fail_on=fail_on,
        baseline=baseline,
        needs=needs,
        select=select,
        ignore=ignore,
        only_paths=only_paths,
    )


def render(
    result: AuditResult, output_format: str = "table", *, fail_on: Severity | str = "high"
) -> str:
    """An `AuditResult` as text: `table`, `json`, `sarif` or `markdown`."""
    from policyeval.report.render import render as _render

    return _render(result, output_format, fail_on=fail_on)


# -- effective permissions (resolver) ----------------------------------------------------------


def effective_permissions(workspace: Workspace, workload_id: str | None = None) -> EffectiveReport:
    """What every workload (or the one named) can do: each credential source it reaches, and
    the grants of each, evaluated with its own boundary and the organisation's SCPs / RCPs.
    Raises `PolicyevalError` when `workload_id` names no workload."""
    from policyeval.resolver.effective import effective_permissions as _effective

    return _effective(workspace, workload_id)


__all__ = [
    "audit",
    "compile_policies",
    "effective_permissions",
    "evaluate",
    "format_pel",
    "load",
    "parse_pel",
    "render",
]

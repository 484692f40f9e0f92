"""The library's functions behind `policyeval/__init__.py`. Calls return values and never print."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from policyeval.compiler.compiled import CompiledPolicySet, PolicySet, compile_policies
from policyeval.evaluator.decision import Decision
from policyeval.evaluator.engine import evaluate as _evaluate
from policyeval.evaluator.request import Request

if TYPE_CHECKING:
    from policyeval.model.workspace import Workspace
    from policyeval.resolver.effective import EffectiveReport

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


# -- effective permissions (resolver) ----------------------------------------------------------


def effective_permissions(workspace: Workspace, workload_id: str | None = None) -> EffectiveReport:
    """What every workload (or the one named) can do: each credential source it reaches, and
    the grants of each, evaluated with its own boundary and the organisation's SCPs / RCPs.
    Raises `PolicyevalError` when `workload_id` names no workload."""
    from policyeval.resolver.effective import effective_permissions as _effective

    return _effective(workspace, workload_id)


__all__ = ["compile_policies", "effective_permissions", "evaluate"]

"""policyeval: evaluate AWS IAM policies as AWS does, and tell what each workload can do.

The names in `__all__` are the stable library surface; everything else may change. They are
imported on first use, so `import policyeval` (and the pre-commit hook) starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from policyeval.api import audit as audit
    from policyeval.api import compile_policies as compile_policies
    from policyeval.api import effective_permissions as effective_permissions
    from policyeval.api import evaluate as evaluate
    from policyeval.api import format_pel as format_pel
    from policyeval.api import load as load
    from policyeval.api import parse_pel as parse_pel
    from policyeval.api import render as render
    from policyeval.audit.engine import AuditResult as AuditResult
    from policyeval.audit.registry import Finding as Finding
    from policyeval.compiler.compiled import CompiledPolicySet as CompiledPolicySet
    from policyeval.compiler.compiled import PolicySet as PolicySet
    from policyeval.errors import Diagnostic as Diagnostic
    from policyeval.errors import PolicyevalError as PolicyevalError
    from policyeval.errors import Severity as Severity
    from policyeval.errors import Span as Span
    from policyeval.evaluator.decision import Decision as Decision
    from policyeval.evaluator.decision import Gate as Gate
    from policyeval.evaluator.decision import Outcome as Outcome
    from policyeval.evaluator.request import Request as Request
    from policyeval.model.policy import Policy as Policy
    from policyeval.model.workspace import Workspace as Workspace
    from policyeval.resolver.effective import EffectiveReport as EffectiveReport

_WHERE = {
    "audit": "policyeval.api",
    "compile_policies": "policyeval.api",
    "effective_permissions": "policyeval.api",
    "evaluate": "policyeval.api",
    "format_pel": "policyeval.api",
    "load": "policyeval.api",
    "parse_pel": "policyeval.api",
    "render": "policyeval.api",
    "AuditResult": "policyeval.audit.engine",
    "Finding": "policyeval.audit.registry",
    "CompiledPolicySet": "policyeval.compiler.compiled",
    "PolicySet": "policyeval.compiler.compiled",
    "Diagnostic": "policyeval.errors",
    "PolicyevalError": "policyeval.errors",
    "Severity": "policyeval.errors",
    "Span": "policyeval.errors",
    "Decision": "policyeval.evaluator.decision",
    "Gate": "policyeval.evaluator.decision",
    "Outcome": "policyeval.evaluator.decision",
    "Request": "policyeval.evaluator.request",
    "Policy": "policyeval.model.policy",
    "Workspace": "policyeval.model.workspace",
    "EffectiveReport": "policyeval.resolver.effective",
}

__all__ = [
    "AuditResult",
    "CompiledPolicySet",
    "Decision",
    "Diagnostic",
    "EffectiveReport",
    "Finding",
    "Gate",
    "Outcome",
    "Policy",
    "PolicySet",
    "PolicyevalError",
    "Request",
    "Severity",
    "Span",
    "Workspace",
    "audit",
    "compile_policies",
    "effective_permissions",
    "evaluate",
    "format_pel",
    "load",
    "parse_pel",
    "render",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'policyeval' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

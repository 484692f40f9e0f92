"""Policy models ↔ IAM JSON documents, and `.pel` ↔ JSON files (`policyeval convert`).

JSON output is the standard AWS shape: `Version` first, then `Id`, then a `Statement` list
whose elements keep AWS's usual order (Sid, Effect, Principal, Action, Resource, Condition).
One value is written as a string and several as a list, as the IAM console does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from policyeval.errors import Diagnostic, Severity, Span
from policyeval.model.policy import Policy, Principal, Statement

NO_POLICY = "PE032"


def _one_or_many(values: tuple[str, ...]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


def _principals(principals: tuple[Principal, ...]) -> str | dict[str, str | list[str]]:
    if len(principals) == 1 and principals[0].kind == "*":
        return "*"
    grouped: dict[str, list[str]] = {}
    for principal in principals:
        # `"Principal": "*"` and `{"AWS": "*"}` mean the same to IAM (IAM User Guide,
        # "AWS JSON policy elements: Principal"); a mixed list keeps the AWS form.
        kind = "AWS" if principal.kind == "*" else principal.kind
        grouped.setdefault(kind, []).append(principal.value)
    return {kind: _one_or_many(tuple(values)) for kind, values in grouped.items()}


def statement_to_json(statement: Statement) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if statement.sid is not None:
        out["Sid"] = statement.sid
    out["Effect"] = statement.effect.value
    if statement.principal is not None:
        out["Principal"] = _principals(statement.principal)
    if statement.not_principal is not None:
        out["NotPrincipal"] = _principals(statement.not_principal)
    if statement.action is not None:
        out["Action"] = _one_or_many(statement.action)
    if statement.not_action is not None:
        out["NotAction"] = _one_or_many(statement.not_action)
    if statement.resource is not None:
        out["Resource"] = _one_or_many(statement.resource)
    if statement.not_resource is not None:
        out["NotResource"] = _one_or_many(statement.not_resource)
    if statement.condition:
        block: dict[str, dict[str, str | list[str]]] = {}
        for condition in statement.condition:
            block.setdefault(condition.operator, {})[condition.key] = _one_or_many(condition.values)
        out["Condition"] = block
    return out


def policy_to_json(policy: Policy) -> dict[str, Any]:
    """The IAM JSON document of a policy model."""
    out: dict[str, Any] = {}
    if policy.version is not None:
        out["Version"] = policy.version
    if policy.id is not None:
        out["Id"] = policy.id
    out["Statement"] = [statement_to_json(s) for s in policy.statements]
    return out


def policy_json_text(policy: Policy) -> str:
    return json.dumps(policy_to_json(policy), indent=2, ensure_ascii=False) + "\n"


def json_to_pel(
    text: str, path: str, name: str | None = None
) -> tuple[str | None, list[Diagnostic]]:
    """IAM JSON text → `.pel` text of one `policy` block named after the file."""
    from policyeval.readers.iam_json import load_policy_text
    from policyeval.syntax.formatter import format_policy

    policy, diagnostics = load_policy_text(text, path, name or _policy_name(path))
    if policy is None:
        return None, diagnostics
    return format_policy(policy), diagnostics


def _policy_name(path: str) -> str:
    stem = Path(path).stem
    return stem or "policy"


def pel_to_json(
    text: str, path: str, policy_name: str | None = None
) -> tuple[str | None, list[Diagnostic]]:
    """The JSON document of the one policy a `.pel` text defines (or of `policy_name`)."""
    from policyeval.syntax.parser import parse_pel

    document, diagnostics = parse_pel(text, path)
    if diagnostics:
        return None, diagnostics
    policies = document.policies
    if policy_name is not None:
        policies = [p for p in policies if p.name == policy_name]
    if len(policies) != 1:
        names = ", ".join(f"`{p.name}`" for p in document.policies) or "none"
        if policy_name is not None and not policies:
            message = f"`{path}` defines no policy `{policy_name}`"
        elif not policies:
            message = f"`{path}` defines no policy to convert"
        else:
            message = f"`{path}` defines several policies; choose one"
        return None, [
            Diagnostic(
                NO_POLICY,
                Severity.ERROR,
                message,
                Span(path, 1, 1),
                help=f"policies in the file: {names}; pick one with `--policy NAME`",
            )
        ]
    return policy_json_text(policies[0]), []

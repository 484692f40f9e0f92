"""Small builders for audit test workspaces: policies from IAM JSON, roles, tasks."""

from __future__ import annotations

import json
from typing import Any

from policyeval.audit.engine import AuditOptions, AuditResult, run_audit
from policyeval.audit.registry import get_rule
from policyeval.model.policy import Policy
from policyeval.model.workspace import Workspace
from policyeval.readers.iam_json import load_policy_text

ACCOUNT = "111122223333"


def policy(name: str, *statements: dict[str, Any], path: str | None = None) -> Policy:
    """A policy from statements written as IAM JSON; positions point into `path`."""
    text = json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=2)
    found, problems = load_policy_text(text, path or f"policies/{name}.json", name)
    assert found is not None, problems
    return found


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def audit(ws: Workspace, *codes: str, **options: Any) -> AuditResult:
    """Run only the named rules (all when none)."""
    rules = [r for c in codes if (r := get_rule(c)) is not None] if codes else None
    return run_audit(ws, AuditOptions(**options), rules=rules)


def codes_of(result: AuditResult) -> list[str]:
    return [f.code for f in result.findings]

"""`--format json`: the audit result as the documented `report/schema.py` document."""

from __future__ import annotations

import json
from typing import Any

from policyeval.audit.engine import AuditResult
from policyeval.audit.registry import Finding, get_rule
from policyeval.errors import Diagnostic, Severity, Span
from policyeval.report import schema


def tool_version() -> str:
    try:
        from importlib.metadata import version

        return version("policyeval")
    except Exception:  # not installed (a checkout on sys.path)
        return "0.0.0"


def location(span: Span | None) -> schema.Location | None:
    if span is None:
        return None
    return schema.Location(
        path=span.path,
        line=max(span.line, 1),
        column=max(span.column, 1),
        end_line=span.end_line,
        end_column=span.end_column,
    )


def _fix(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return {"text": text}
    return value if isinstance(value, dict) else {"value": value}


def finding_model(f: Finding) -> schema.FindingModel:
    r = get_rule(f.code)
    return schema.FindingModel(
        code=f.code,
        rule=r.name if r else f.code,
        severity=f.severity.value,
        workload=f.workload,
        subject=f.subject,
        message=f.message,
        location=location(f.span),
        source=f.source,
        statements=[loc for s in f.statements if (loc := location(s)) is not None],
        fix=_fix(f.fix),
        help=f.help,
        notes=list(f.notes),
        fingerprint=f.fingerprint(),
    )


def diagnostic_model(d: Diagnostic) -> schema.DiagnosticModel:
    return schema.DiagnosticModel(
        code=d.code,
        severity=d.severity.value,
        message=d.message,
        location=location(d.span),
        help=d.help,
        notes=list(d.notes),
    )


def report_model(result: AuditResult, fail_on: Severity = Severity.HIGH) -> schema.Report:
    return schema.Report(
        tool=schema.Tool(version=tool_version()),
        summary=schema.Summary(
            counts=result.counts(),
            errors=sum(1 for d in result.diagnostics if d.severity is Severity.ERROR),
            suppressed=len(result.suppressed),
            fail_on=fail_on.value,
            exit_code=result.exit_code(fail_on),
        ),
        findings=[finding_model(f) for f in result.findings],
        diagnostics=[diagnostic_model(d) for d in result.diagnostics],
        suppressed=[
            schema.SuppressedModel(
                finding=finding_model(s.finding),
                reason=s.suppression.reason,
                suppressed_at=location(s.suppression.span),
            )
            for s in result.suppressed
        ],
        workloads=[
            schema.WorkloadModel(
                id=w.id,
                kind=w.kind,
                location=location(w.span),
                sources=[
                    schema.SourceModel(
                        kind=s.kind,
                        role=s.role,
                        reachable=s.reachable,
                        reasons=list(s.reasons),
                    )
                    for s in w.sources
                ],
            )
            for w in result.workloads
        ],
    )


def render_json(result: AuditResult, fail_on: Severity = Severity.HIGH) -> str:
    document = report_model(result, fail_on).model_dump(mode="json")
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

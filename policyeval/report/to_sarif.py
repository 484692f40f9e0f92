"""`--format sarif`: SARIF 2.1.0 for code scanning.

Rules come from the registry; input problems are results too, under their own codes
(cfn-lint reports parse failures as a rule). Columns are Unicode code points, as Lark
and our readers count them. Severities map to levels in `Severity.sarif_level` only.
"""

from __future__ import annotations

import json
from typing import Any

from policyeval.audit.engine import AuditResult
from policyeval.audit.registry import Finding, Rule, all_rules
from policyeval.errors import Diagnostic, Severity, Span
from policyeval.report.to_json import tool_version

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/policyeval/policyeval"
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
    Severity.ERROR: "8.0",
}


def _region(span: Span) -> dict[str, int]:
    region = {"startLine": max(span.line, 1), "startColumn": max(span.column, 1)}
    if span.end_line is not None and span.end_line >= span.line:
        region["endLine"] = span.end_line
        if span.end_column is not None and (
            span.end_line > span.line or span.end_column >= region["startColumn"]
        ):
            region["endColumn"] = max(span.end_column, 1)
    return region


def _location(span: Span, message: str | None = None) -> dict[str, Any]:
    loc: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": span.path.replace("\\", "/")},
            "region": _region(span),
        }
    }
    if message:
        loc["message"] = {"text": message}
    return loc


def _rule_descriptor(r: Rule) -> dict[str, Any]:
    sections = r.sections()
    return {
        "id": r.code,
        "name": r.name,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": " ".join(sections.get("What it finds", "").split())},
        "help": {"text": " ".join(sections.get("Fix", "").split()), "markdown": r.page()},
        "helpUri": r.references[0],
        "defaultConfiguration": {"level": r.severity.sarif_level},
        "properties": {
            "tags": ["security", "iam"],
            "security-severity": _SECURITY_SEVERITY[r.severity],
        },
    }


def _input_rule(code: str) -> dict[str, Any]:
    return {
        "id": code,
        "name": "input-error",
        "shortDescription": {"text": "an input could not be read or validated"},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["input"]},
    }


def _result(f: Finding, index: int, suppression: dict[str, Any] | None = None) -> dict[str, Any]:
    text = f.message + (f" ({f.help})" if f.help else "")
    out: dict[str, Any] = {
        "ruleId": f.code,
        "ruleIndex": index,
        "level": f.severity.sarif_level,
        "message": {"text": text},
        "partialFingerprints": {"policyeval/v1": f.fingerprint()},
        "properties": {"severity": f.severity.value},
    }
    if f.span is not None:
        out["locations"] = [_location(f.span)]
    if f.statements:
        out["relatedLocations"] = [
            {"id": i + 1, **_location(s, "granting statement")} for i, s in enumerate(f.statements)
        ]
    if f.workload:
        out["properties"]["workload"] = f.workload
    if f.source:
        out["properties"]["source"] = f.source
    if f.fix:
        out["properties"]["suggestedPolicy"] = f.fix
    if suppression is not None:
        out["suppressions"] = [suppression]
    return out


def _diagnostic_result(d: Diagnostic, index: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ruleId": d.code,
        "ruleIndex": index,
        "level": d.severity.sarif_level,
        "message": {"text": d.message + (f" ({d.help})" if d.help else "")},
    }
    if d.span is not None:
        out["locations"] = [_location(d.span)]
    return out


def sarif_document(result: AuditResult, fail_on: Severity = Severity.HIGH) -> dict[str, Any]:
    rules = [_rule_descriptor(r) for r in all_rules()]
    index = {r["id"]: i for i, r in enumerate(rules)}
    for d in result.diagnostics:
        if d.code not in index:
            index[d.code] = len(rules)
            rules.append(_input_rule(d.code))
    results = [_result(f, index[f.code]) for f in result.findings if f.code in index]
    for s in result.suppressed:
        if s.finding.code in index:
            kind = "external" if s.suppression.reason.startswith("fingerprint:") else "inSource"
            results.append(
                _result(
                    s.finding,
                    index[s.finding.code],
                    {"kind": kind, "justification": s.suppression.reason},
                )
            )
    results += [_diagnostic_result(d, index[d.code]) for d in result.diagnostics]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "policyeval",
                        "version": tool_version(),
                        "informationUri": INFO_URI,
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "invocations": [
                    {
                        "executionSuccessful": result.exit_code(fail_on) != 2,
                        "exitCode": result.exit_code(fail_on),
                    }
                ],
                "results": results,
            }
        ],
    }


def render_sarif(result: AuditResult, fail_on: Severity = Severity.HIGH) -> str:
    return json.dumps(sarif_document(result, fail_on), indent=2, ensure_ascii=False) + "\n"

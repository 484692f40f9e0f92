"""One entry point over the audit renderers: an `AuditResult` as table, JSON, SARIF or
Markdown text. Renderers are imported on demand to keep start-up light."""

from __future__ import annotations

from policyeval.audit.engine import AuditResult
from policyeval.errors import Severity

FORMATS = ("table", "json", "sarif", "markdown")


def render(
    result: AuditResult, output_format: str = "table", *, fail_on: Severity | str = "high"
) -> str:
    """Render with one of FORMATS; unknown formats are misuse (ValueError)."""
    threshold = Severity(fail_on)
    if output_format == "json":
        from policyeval.report.to_json import render_json

        return render_json(result, threshold)
    if output_format == "sarif":
        from policyeval.report.to_sarif import render_sarif

        return render_sarif(result, threshold)
    if output_format == "markdown":
        from policyeval.report.to_markdown import render_markdown

        return render_markdown(result, threshold)
    if output_format == "table":
        from policyeval.report.to_table import render_table_text

        return render_table_text(result, threshold)
    raise ValueError(f"unknown format `{output_format}`; expected one of {', '.join(FORMATS)}")

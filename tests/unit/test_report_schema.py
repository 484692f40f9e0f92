"""The JSON report: its schema is generated from `report/schema.py`, documented in
docs/json-schema.md (kept in step by this test), and every report validates against it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from policyeval.api import audit, render
from policyeval.report.schema import SCHEMA_VERSION, json_schema, schema_markdown
from tests.golden.sample import sample_workspace

ROOT = Path(__file__).parents[2]


def test_docs_json_schema_md_is_generated_from_the_models() -> None:
    current = (ROOT / "docs" / "json-schema.md").read_text(encoding="utf-8")
    assert current == schema_markdown(), "docs/json-schema.md is stale: regenerate it"


def test_json_report_validates_against_its_schema() -> None:
    document = json.loads(render(audit(sample_workspace()), "json"))
    assert document["schema_version"] == SCHEMA_VERSION
    jsonschema.validate(document, json_schema())
    required = {"code", "severity", "workload", "message", "location"}
    assert all(required <= set(f) for f in document["findings"])


def test_library_audit_returns_a_result_and_prints_nothing(capsys: object) -> None:
    result = audit(sample_workspace(), fail_on="critical")
    assert result.findings
    assert result.exit_code("critical") == 2  # the sample holds an input error
    out = capsys.readouterr()  # type: ignore[attr-defined]
    assert out.out == "" and out.err == ""

"""SARIF 2.1.0 output, validated against the official schema vendored in tests/data
(OASIS SARIF 2.1.0, https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from policyeval.audit.engine import run_audit
from policyeval.errors import Severity
from policyeval.report.to_sarif import render_sarif, sarif_document
from tests.golden.sample import sample_workspace

SCHEMA = Path(__file__).parents[1] / "data" / "sarif-schema-2.1.0.json"


@cache
def _validator() -> Any:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    # No check_schema: the official file has a known slip (region's `anyOf` sits inside
    # `properties`), which the 2020-12 meta-schema rejects; validation itself is unaffected.
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _document() -> dict[str, Any]:
    return sarif_document(run_audit(sample_workspace()))


def test_sarif_output_validates_against_the_official_schema() -> None:
    document = json.loads(render_sarif(run_audit(sample_workspace())))
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.path))
    assert errors == []


def test_the_schema_rejects_a_broken_document() -> None:
    """Guards the test above: the vendored schema really constrains results."""
    document = _document()
    document["runs"][0]["results"][0]["level"] = "fatal"
    assert list(_validator().iter_errors(document))


def test_columns_are_unicode_code_points() -> None:
    assert _document()["runs"][0]["columnKind"] == "unicodeCodePoints"


def test_input_errors_are_results_with_their_own_rule() -> None:
    run = _document()["runs"][0]
    errors = [r for r in run["results"] if r["ruleId"] == "PE041"]
    assert len(errors) == 1
    assert errors[0]["level"] == "error"
    region = errors[0]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (2, 16)
    rule = run["tool"]["driver"]["rules"][errors[0]["ruleIndex"]]
    assert rule["id"] == "PE041"


def test_every_result_points_at_its_rule_by_index() -> None:
    run = _document()["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_severities_map_to_levels_in_one_place() -> None:
    run = _document()["runs"][0]
    for result in run["results"]:
        severity = result.get("properties", {}).get("severity")
        if severity:
            assert result["level"] == Severity(severity).sarif_level


def test_suppressed_findings_carry_a_suppression_with_the_reason() -> None:
    run = _document()["runs"][0]
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert [s["suppressions"][0]["justification"] for s in suppressed] == [
        "reviewed: legacy reader"
    ]
    assert suppressed[0]["suppressions"][0]["kind"] == "inSource"

"""Golden files per output format; regenerate only with `pytest --update-golden` and read
the diff before committing it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policyeval.audit.engine import run_audit
from policyeval.report.render import render
from tests.golden.sample import sample_workspace

HERE = Path(__file__).parent
FORMATS = {"table": "txt", "json": "json", "sarif": "sarif", "markdown": "md"}


def _stable(text: str) -> str:
    """The tool version is not part of the golden content."""
    text = re.sub(r'("version": ")\d+\.\d+\.\d+[^"]*(",\n\s+"informationUri")', r"\1X\2", text)
    return re.sub(r'("name": "policyeval",\n\s+"version": ")[^"]*"', r'\1X"', text)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_output_matches_golden_file(fmt: str, update_golden: bool) -> None:
    result = run_audit(sample_workspace())
    text = _stable(render(result, fmt))
    golden = HERE / fmt / f"sample.{FORMATS[fmt]}"
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"missing {golden}: run pytest --update-golden"
    assert text == golden.read_text(encoding="utf-8")

"""The rule registry: codes, docs and the generated rules page (cfn-lint and ruff keep
their rule tables generated and checked the same way)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from policyeval.audit.registry import SECTIONS, Finding, all_rules, get_rule, rule, rules_markdown
from policyeval.errors import Severity

ROOT = Path(__file__).parents[2]


def test_codes_are_unique_and_in_their_ranges() -> None:
    codes = [r.code for r in all_rules()]
    assert len(codes) == len(set(codes))
    ranges = {"1": "policy", "2": "workload", "3": "topology", "4": "expect"}
    for r in all_rules():
        assert re.fullmatch(r"PE[1-4][0-9]{2}", r.code), r.code
        module = r.check.__module__.rsplit("_", 1)[-1]
        assert module == ranges[r.code[2]], f"{r.code} lives in rules_{module}"


def test_every_rule_has_a_page_with_all_sections_and_https_references() -> None:
    for r in all_rules():
        sections = r.sections()
        for title in SECTIONS:
            assert sections.get(title), f"{r.code} lacks {title}"
        assert r.references and all(u.startswith("https://") for u in r.references)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.name)


def test_docs_rules_md_is_generated_from_the_registry() -> None:
    current = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert current == rules_markdown(), "docs/rules.md is stale: run make docs"


def test_registry_module_prints_the_rules_page() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "policyeval.audit.registry"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert done.stdout == rules_markdown()


def test_lookup_by_code_is_case_insensitive_and_by_name() -> None:
    assert get_rule("pe201") is get_rule("container-reaches-host-credentials")
    assert get_rule("PE999") is None


def test_decorator_refuses_a_rule_without_its_page() -> None:
    def check(ctx: object) -> list[Finding]:
        """What it finds:
        something
        """
        return []

    with pytest.raises(ValueError, match="lacks sections"):
        rule(code="PE199", name="x", severity=Severity.LOW, references=("https://a",))(check)  # type: ignore[arg-type]


def test_decorator_refuses_a_malformed_code() -> None:
    with pytest.raises(ValueError, match="not of the form"):
        rule(code="E1", name="x", severity=Severity.LOW, references=("https://a",))


def test_fingerprint_ignores_position_and_wording() -> None:
    from policyeval.errors import Span

    a = Finding("PE201", Severity.HIGH, "one", "web", Span("a.pel", 1, 1), key="k")
    b = Finding("PE201", Severity.HIGH, "two", "web", Span("a.pel", 9, 4), key="k")
    c = Finding("PE201", Severity.HIGH, "one", "api", Span("a.pel", 1, 1), key="k")
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()

"""`policyeval fmt`: canonical layout, comments kept, idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyeval.errors import PolicyevalError
from policyeval.syntax.formatter import format_pel
from policyeval.syntax.parser import parse_pel

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_layout_is_one_item_per_line_with_two_space_indent() -> None:
    text = "role r { trust service ecs-tasks.amazonaws.com; attach a,b }"
    assert format_pel(text) == (
        "role r {\n  trust service ecs-tasks.amazonaws.com\n  attach a, b\n}\n"
    )


def test_long_statement_puts_each_clause_on_its_own_line() -> None:
    resource = '"arn:aws:s3:::' + "x" * 80 + '"'
    text = f"policy p {{ allow s3:GetObject on {resource} if Bool aws:SecureTransport = true }}"
    assert format_pel(text) == (
        "policy p {\n"
        "  allow s3:GetObject\n"
        f"    on {resource}\n"
        "    if Bool aws:SecureTransport = true\n"
        "}\n"
    )


def test_comments_survive_in_place() -> None:
    text = (
        "# head\n"
        "policy p {   # about p\n"
        "\n"
        "  # before the statement\n"
        '  allow a:b on "x"   # trailing\n'
        "  # at the end of the block\n"
        "}\n"
        "# tail\n"
    )
    formatted = format_pel(text)
    # a blank line just inside `{` is not kept; everything else is
    assert formatted == (
        "# head\n"
        "policy p {  # about p\n"
        "  # before the statement\n"
        '  allow a:b on "x"  # trailing\n'
        "  # at the end of the block\n"
        "}\n"
        "# tail\n"
    )


def test_blank_lines_between_items_collapse_to_one() -> None:
    assert format_pel("role a {}\n\n\n\nrole b {}\nrole c {}") == (
        "role a {}\n\nrole b {}\nrole c {}\n"
    )


def test_formatting_keeps_the_model_and_is_idempotent() -> None:
    text = (SAMPLES / "estate.pel").read_text(encoding="utf-8")
    once = format_pel(text)
    assert format_pel(once) == once
    before, _ = parse_pel(text, "a")
    after, _ = parse_pel(once, "a")
    assert before.policies == after.policies
    assert [r.role for r in before.roles] == [r.role for r in after.roles]
    assert before.tasks == after.tasks and before.expectations == after.expectations


def test_sample_is_already_canonical() -> None:
    text = (SAMPLES / "estate.pel").read_text(encoding="utf-8")
    assert format_pel(text) == text


def test_unparsable_text_raises_with_diagnostics() -> None:
    with pytest.raises(PolicyevalError) as caught:
        format_pel("policy {")
    assert caught.value.diagnostics[0].code == "PE001"

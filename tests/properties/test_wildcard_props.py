"""The wildcard matcher agrees with a naive reference, including on text generated from the
pattern itself so that matches are common (cedar-spec's wildcard-matching idea)."""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from policyeval.compiler.wildcard import (
    Wildcard,
    compile_pattern,
    compile_tokens,
    tokenize,
    wildcard_match,
)

ALPHABET = "ab:/*?"


def naive(pattern: str, text: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.S) is not None


@st.composite
def pattern_and_matching_text(draw: st.DrawFn) -> tuple[str, str]:
    pattern = draw(st.text(alphabet=ALPHABET, max_size=12))
    out = []
    for ch in pattern:
        if ch == "*":
            out.append(draw(st.text(alphabet="ab:/", max_size=4)))
        elif ch == "?":
            out.append(draw(st.sampled_from("ab:/")))
        else:
            out.append(ch)
    return pattern, "".join(out)


@given(pattern_and_matching_text())
@example(("a?", "ab"))
@example(("*a*a*b", "aaab"))
def test_text_generated_from_pattern_always_matches(case: tuple[str, str]) -> None:
    pattern, text = case
    assert wildcard_match(pattern, text)


@given(st.text(alphabet=ALPHABET, max_size=10), st.text(alphabet="ab:/*?", max_size=12))
@example("?", "")
@example("a*", "A")
def test_matcher_agrees_with_naive_reference(pattern: str, text: str) -> None:
    assert wildcard_match(pattern, text) == naive(pattern, text)


@given(st.text(alphabet="aBcD*?", max_size=8), st.text(alphabet="abcdABCD", max_size=10))
def test_folded_matching_ignores_case_like_iam_actions(pattern: str, text: str) -> None:
    """IAM User Guide, "IAM JSON policy elements: Action": action names are case-insensitive."""
    assert wildcard_match(pattern, text, fold_case=True) == naive(pattern.lower(), text.lower())


def test_hostile_pattern_is_not_exponential() -> None:
    """`*a*a*a…b` against a long run of `a` would backtrack exponentially in a naive regex;
    the piece-wise matcher answers after a linear scan (checked by the answer, not by time)."""
    matcher = compile_pattern("*a" * 40 + "b")
    assert matcher.matches("a" * 200_000) is False
    assert matcher.matches("a" * 200_000 + "b") is True


def _fields(wildcard: Wildcard) -> tuple[object, ...]:
    return tuple(getattr(wildcard, name) for name in Wildcard.__slots__)


@given(st.text(alphabet="aB:/*?", max_size=10), st.booleans())
@example("", False)
@example("*", False)
@example("Ab*", True)
@example("a*b", False)
def test_direct_shapes_build_what_the_token_compiler_builds(pattern: str, fold: bool) -> None:
    # compile_pattern builds plain text and `text*` directly; the result must be the very
    # Wildcard the general token compiler makes.
    direct = compile_pattern(pattern, fold_case=fold)
    general = compile_tokens(tokenize(pattern), fold_case=fold)
    assert _fields(direct) == _fields(general)

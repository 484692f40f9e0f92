"""Hypothesis strategies for the fuzzing campaigns: mutated real inputs, grammar-shaped `.pel`
text, and random policies, contexts and batch cases.

Mutations start from the format fixtures and the bundled samples so that most generated
inputs get far into a reader before they break, which is where the bugs live.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from policyeval.syntax.grammar import pel_parser

ROOT = Path(__file__).resolve().parent.parent.parent
SEEDS: dict[str, str] = {
    p.name: p.read_text(encoding="utf-8")
    for folder in (ROOT / "tests" / "fixtures" / "formats", ROOT / "samples")
    for p in sorted(folder.rglob("*"))
    if p.is_file() and p.suffix in {".json", ".yaml", ".yml", ".pel"}
}
JSON_SEEDS = {name: text for name, text in SEEDS.items() if name.endswith(".json")}
YAML_SEEDS = {name: text for name, text in SEEDS.items() if name.endswith((".yaml", ".yml"))}
PEL_SEEDS = {name: text for name, text in SEEDS.items() if name.endswith(".pel")}

#: Odd text: controls, bidi overrides, zero-width, surrogate-free astral, NEL, BOM.
ODD_UNICODE = [
    "\x00",
    "\x1b[31m",
    "\u202e",
    "\u200b",
    "\ufeff",
    "\x85",
    "\u2028",
    "\U0001f600",
    "\ud7ff",
    "é",
    "İ",
    "ß",
    "\r",
    "\t",
]
PUNCTUATION = ['"', "{", "}", "[", "]", ",", ":", "- ", "&a ", "*a ", "!Ref ", "<<: ", "\\u12"]
HUGE_NUMBERS = ["1e999", "-1e999", "9" * 400, "1" + "0" * 5000, "0." + "0" * 400 + "1", "NaN"]


@st.composite
def mutated_text(draw: st.DrawFn, seeds: dict[str, str]) -> tuple[str, str]:
    """(file name, text) of a seed after a few truncations, byte flips and insertions."""
    name = draw(st.sampled_from(sorted(seeds)))
    text = seeds[name]
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(["truncate", "flip", "insert", "delete", "duplicate", "swap_type"])
        )
        at = draw(st.integers(0, len(text)))
        if kind == "truncate":
            text = text[:at]
        elif kind == "flip" and text:
            index = min(at, len(text) - 1)
            flipped = chr((ord(text[index]) ^ (1 << draw(st.integers(0, 7)))) or 1)
            text = text[:index] + flipped + text[index + 1 :]
        elif kind == "insert":
            piece = draw(
                st.sampled_from(ODD_UNICODE + PUNCTUATION + HUGE_NUMBERS)
                | st.text(max_size=6)
                | st.sampled_from(["true", "null", "[]", "{}", "1", '""', "-1"])
            )
            text = text[:at] + piece + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif kind == "duplicate":
            end = min(len(text), at + draw(st.integers(1, 200)))
            text = text[:end] + text[at:end] + text[end:]
        else:
            text = _swap_a_value(text, draw)
    return name, text


def _swap_a_value(text: str, draw: st.DrawFn) -> str:
    """Replace one JSON string value by a value of another type (type swaps)."""
    quotes = [i for i, ch in enumerate(text) if ch == '"']
    if len(quotes) < 2:
        return text
    pair = draw(st.integers(0, len(quotes) // 2 - 1)) * 2
    start, end = quotes[pair], quotes[pair + 1]
    other = draw(st.sampled_from(["1", "true", "null", "[]", "{}", '["a", 1]', '{"a": {}}']))
    return text[:start] + other + text[end + 1 :]


def deep_nesting(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


@st.composite
def structurally_mutated_json(draw: st.DrawFn) -> tuple[str, str]:
    """(file name, text) of a JSON seed whose *structure* changed: a value replaced by deep
    nesting, a huge number, odd text or another type, then serialised again."""
    name = draw(st.sampled_from(sorted(JSON_SEEDS)))
    document = json.loads(JSON_SEEDS[name])
    paths = list(_paths(document))
    target = draw(st.sampled_from(paths)) if paths else ()
    replacement: Any = draw(
        st.one_of(
            st.sampled_from([None, True, 0, -1, 2**70, 1e308, "", [], {}]),
            st.lists(st.sampled_from(ODD_UNICODE + list(string.printable)), max_size=8).map(
                "".join
            ),
            st.integers(1, 700).map(_nested),
            st.lists(st.text(max_size=5), max_size=5),
        )
    )
    document = _replace_at(document, target, replacement)
    text = json.dumps(document, ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):
        number = draw(st.sampled_from(HUGE_NUMBERS))
        text = text.replace("0", number, 1) if "0" in text else text
    return name, text


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Any:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _replace_at(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    holder = document
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return document


# -- grammar-shaped `.pel` text -------------------------------------------------------------

pel_words = st.one_of(
    st.sampled_from(["s3:GetObject", "*", "ecs-tasks.amazonaws.com", "web", "v2", "1", "true"]),
    st.from_regex(r"[A-Za-z0-9_*?$][A-Za-z0-9_.*?:/@+$-]{0,8}", fullmatch=True),
)
pel_strings = st.one_of(
    st.sampled_from(['"arn:aws:s3:::b/*"', '"policies/x.json"', '"../../etc/passwd"', '""']),
    st.from_regex(r'"[a-zA-Z0-9 :/*.${}?-]{0,12}"', fullmatch=True),
)
pel_grammar_text = from_lark(
    pel_parser()[0],
    explicit={
        "WORD": pel_words,
        "STRING": pel_strings,
        "COMMENT": st.sampled_from(["# c", '# policyeval: ignore PE201 reason "r"', "#"]),
        "WS": st.sampled_from([" ", "\n", "  ", "\t", "\n\n"]),
    },
)


@st.composite
def broken_pel(draw: st.DrawFn) -> str:
    """Grammar-shaped text with one token-level corruption: most inputs fail late."""
    text = draw(pel_grammar_text)
    at = draw(st.integers(0, len(text)))
    piece = draw(st.sampled_from(["{", "}", '"', ";", "=", ",", "\x00", "\u202e", "allow", ""]))
    return text[:at] + piece + text[at + draw(st.integers(0, 3)) :]


# -- policies, contexts, batch cases ----------------------------------------------------------

OPERATORS = [
    "StringEquals",
    "StringLike",
    "StringNotLike",
    "StringEqualsIgnoreCase",
    "NumericLessThan",
    "DateGreaterThan",
    "Bool",
    "IpAddress",
    "NotIpAddress",
    "ArnLike",
    "ArnNotEquals",
    "BinaryEquals",
    "Null",
    "ForAllValues:StringLike",
    "ForAnyValue:StringEquals",
    "StringLikeIfExists",
    "StringLik",
    "NullIfExists",
    "Foo:Bar",
]
KEYS = ["aws:PrincipalTag/team", "aws:SourceIp", "aws:CurrentTime", "s3:prefix", "aws:TagKeys"]
ACTIONS = ["s3:GetObject", "s3:*", "*", "s3:Get*", "iam:PassRole", "ec?:Describe*", "S3:getobject"]
RESOURCES = ["*", "arn:aws:s3:::b/*", "arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b"]

values = st.one_of(
    st.sampled_from(["a", "*", "10.0.0.0/8", "2024-01-01T00:00:00Z", "true", "${aws:username}"]),
    st.text(max_size=8),
    st.integers(-5, 5),
    st.booleans(),
)
jsonish = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


def _one_or_list(item: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return item | st.lists(item, max_size=3)


statements = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Deny", "allow", "Maybe"]) | jsonish,
        "Action": _one_or_list(st.sampled_from(ACTIONS) | st.text(max_size=6)),
    },
    optional={
        "Resource": _one_or_list(st.sampled_from(RESOURCES)),
        "NotResource": _one_or_list(st.sampled_from(RESOURCES)),
        "Sid": st.text(max_size=5) | jsonish,
        "Condition": st.dictionaries(
            st.sampled_from(OPERATORS),
            st.dictionaries(st.sampled_from(KEYS), _one_or_list(values) | jsonish, max_size=2),
            max_size=2,
        )
        | jsonish,
        "Unknown": jsonish,
    },
)
policies = st.one_of(
    st.fixed_dictionaries(
        {"Version": st.sampled_from(["2012-10-17", "2008-10-17", "1"]), "Statement": statements}
    ),
    st.fixed_dictionaries(
        {"Version": st.just("2012-10-17"), "Statement": st.lists(statements, max_size=3)}
    ),
    jsonish,
)
contexts = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), _one_or_list(values))
cases = st.fixed_dictionaries(
    {
        "principal": st.sampled_from(["arn:aws:iam::111122223333:role/r", "*", ""]) | jsonish,
        "action": st.sampled_from(ACTIONS) | st.text(max_size=8),
        "resource": st.sampled_from(RESOURCES) | st.text(max_size=8),
    },
    optional={
        "identityPolicies": st.lists(policies | policies.map(json.dumps), max_size=2) | jsonish,
        "permissionBoundaries": st.lists(policies, max_size=2),
        "resourcePolicy": policies,
        "scps": st.lists(st.lists(policies, max_size=2), max_size=2) | jsonish,
        "rcps": st.lists(policies, max_size=2),
        "context": contexts | jsonish,
        "resourceAccount": st.sampled_from(["111122223333", ""]) | jsonish,
        "id": jsonish,
    },
)

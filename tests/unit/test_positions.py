"""Position-keeping JSON and YAML loaders: values, spans, errors and limits."""

from __future__ import annotations

import pytest

from policyeval.errors import Span
from policyeval.readers.positions import (
    InputError,
    key_span,
    load_json,
    load_yaml_documents,
    span_at,
    span_near,
    span_of,
)


def test_json_values_equal_the_standard_parser() -> None:
    import json

    text = '{"a": [1, -2.5e3, "x\\u00e9\\n", true, false, null, {}], "b": {"c": []}}'
    assert load_json(text, "f.json") == json.loads(text)


def test_json_containers_and_strings_carry_their_spans() -> None:
    text = '{\n  "role": "arn:aws:iam::1:role/x",\n  "list": [1, {"k": true}]\n}'
    doc = load_json(text, "f.json")
    assert span_of(doc) == Span("f.json", 1, 1, 4, 2)
    assert span_of(doc["role"]) == Span("f.json", 2, 11, 2, 34)
    assert key_span(doc, "role") == Span("f.json", 2, 3, 2, 9)
    assert span_at(doc["list"], 0) == Span("f.json", 3, 12, 3, 13)
    assert span_at(doc["list"][1], "k") == Span("f.json", 3, 21, 3, 25)
    assert span_of(doc["list"][1]) == Span("f.json", 3, 15, 3, 26)


def test_plain_values_and_plain_containers_have_no_span() -> None:
    doc = load_json('{"n": 3}', "f.json")
    assert span_of(doc["n"]) is None
    assert span_at({"n": 3}, "n") is None
    assert span_at(doc, "missing") is None
    assert span_near(doc, "missing") == span_of(doc)


def test_json_duplicate_keys_keep_the_last_value() -> None:
    doc = load_json('{"a": 1, "a": 2}', "f.json")
    assert doc == {"a": 2}
    assert span_at(doc, "a") == Span("f.json", 1, 15, 1, 16)


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ('{"a": 1,}', 1, 9, "expected a quoted key"),
        ("[1 2]", 1, 4, "expected `,` or `]`"),
        ('{\n  "a" 1}', 2, 7, "expected `:`"),
        ("", 1, 1, "found end of file"),
        ('{"a": tru}', 1, 7, "unexpected `t`"),
        ('["abc', 1, 2, "unterminated string"),
        ("[1]x", 1, 4, "after the document"),
        ('["\x01"]', 1, 3, "invalid control character"),
        ("[NaN]", 1, 2, "expected a value"),
    ],
)
def test_malformed_json_reports_pe060_at_the_offending_character(
    text: str, line: int, column: int, words: str
) -> None:
    with pytest.raises(InputError) as caught:
        load_json(text, "bad.json")
    diagnostic = caught.value.diagnostic
    assert diagnostic.code == "PE060"
    assert diagnostic.span is not None
    assert (diagnostic.span.path, diagnostic.span.line, diagnostic.span.column) == (
        "bad.json",
        line,
        column,
    )
    assert words in diagnostic.message


def test_json_nesting_beyond_the_cap_is_pe090_without_recursion_error() -> None:
    with pytest.raises(InputError) as caught:
        load_json("[" * 100_000, "deep.json")
    assert caught.value.diagnostic.code == "PE090"
    assert load_json("[" * 10 + "]" * 10, "ok.json", max_depth=10) is not None


def test_oversized_input_is_pe092_and_the_cap_can_be_raised() -> None:
    with pytest.raises(InputError) as caught:
        load_json("[1, 2]", "big.json", max_chars=3)
    assert caught.value.diagnostic.code == "PE092"
    with pytest.raises(InputError):
        load_yaml_documents("a: 1", "big.yaml", max_chars=3)
    assert load_json("[1, 2]", "big.json", max_chars=6) == [1, 2]


def test_embedded_json_reports_every_span_at_the_anchor() -> None:
    anchor = Span("plan.json", 40, 7)
    doc = load_json('{"Statement": [{"Effect": "Allow"}]}', "plan.json", at=anchor)
    assert span_of(doc["Statement"][0]["Effect"]) == anchor
    with pytest.raises(InputError) as caught:
        load_json("{", "plan.json", at=anchor)
    assert caught.value.diagnostic.span == anchor


def test_yaml_spans_are_one_based() -> None:
    docs = load_yaml_documents("kind: Pod\nspec:\n  hostNetwork: true\n", "p.yaml")
    spec = docs[0]["spec"]
    assert span_at(spec, "hostNetwork") == Span("p.yaml", 3, 16, 3, 20)
    assert key_span(spec, "hostNetwork") == Span("p.yaml", 3, 3, 3, 14)
    assert span_of(docs[0]["kind"]) == Span("p.yaml", 1, 7, 1, 10)


def test_yaml_resolves_standard_scalars_and_keeps_multiple_documents() -> None:
    text = "a: 1\nb: 2.5\nc: yes\nd: ~\ne: '1'\nf: 2024-01-01\n---\n- x\n"
    docs = load_yaml_documents(text, "m.yaml")
    assert docs == [
        {"a": 1, "b": 2.5, "c": True, "d": None, "e": "1", "f": "2024-01-01"},
        ["x"],
    ]


def test_cloudformation_short_tags_become_long_form() -> None:
    text = (
        "A: !Ref Role\n"
        "B: !GetAtt Role.Arn\n"
        "C: !Sub 'arn:${AWS::Partition}:x'\n"
        "D: !Join [':', [a, !Ref B]]\n"
        "E: !If [Cond, 1, 2]\n"
        "F: !Base64\n  Fn::Sub: x\n"
        "G: !GetAtt [Role, Arn]\n"
        "H: !Condition IsProd\n"
    )
    doc = load_yaml_documents(text, "t.yaml")[0]
    assert doc == {
        "A": {"Ref": "Role"},
        "B": {"Fn::GetAtt": ["Role", "Arn"]},
        "C": {"Fn::Sub": "arn:${AWS::Partition}:x"},
        "D": {"Fn::Join": [":", ["a", {"Ref": "B"}]]},
        "E": {"Fn::If": ["Cond", 1, 2]},
        "F": {"Fn::Base64": {"Fn::Sub": "x"}},
        "G": {"Fn::GetAtt": ["Role", "Arn"]},
        "H": {"Condition": "IsProd"},
    }
    assert span_of(doc["A"]) == Span("t.yaml", 1, 4, 1, 13)


def test_yaml_merge_keys_fill_only_missing_keys() -> None:
    docs = load_yaml_documents("base: &b {x: 1, y: 2}\nnew:\n  <<: *b\n  y: 3\n", "m.yaml")
    assert docs[0]["new"] == {"x": 1, "y": 3}


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        ("a: [1,", "PE061", 1),
        ("a: !!python/object/apply:os.system ['true']", "PE061", 1),
        ("a:\n  b: !Unknown x", "PE061", 2),
        ("a: b: c", "PE061", 1),
        ("a: &a [*a]", "PE091", 1),
        ("a: *nope", "PE061", 1),
    ],
)
def test_malformed_or_unsafe_yaml_is_rejected_with_a_code(text: str, code: str, line: int) -> None:
    with pytest.raises(InputError) as caught:
        load_yaml_documents(text, "bad.yaml")
    diagnostic = caught.value.diagnostic
    assert diagnostic.code == code
    assert diagnostic.span is not None
    assert diagnostic.span.line == line


def test_yaml_alias_bomb_is_pe091() -> None:
    lines = ['l0: &l0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        refs = ", ".join([f"*l{i - 1}"] * 9)
        lines.append(f"l{i}: &l{i} [{refs}]")
    with pytest.raises(InputError) as caught:
        load_yaml_documents("\n".join(lines), "bomb.yaml")
    assert caught.value.diagnostic.code == "PE091"


def test_yaml_nesting_beyond_the_cap_is_pe090() -> None:
    with pytest.raises(InputError) as caught:
        load_yaml_documents("[" * 5000 + "]" * 5000, "deep.yaml")
    assert caught.value.diagnostic.code == "PE090"

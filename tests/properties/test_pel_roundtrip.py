"""Round trips of the `.pel` language, and totality of its parser (hypothesis)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from policyeval.convert import json_to_pel, pel_to_json, policy_to_json
from policyeval.model.policy import (
    VERSION_2008,
    VERSION_2012,
    Condition,
    Effect,
    Policy,
    Principal,
    Statement,
)
from policyeval.syntax.formatter import format_pel, format_policy
from policyeval.syntax.grammar import pel_parser
from policyeval.syntax.parser import _OPERATOR_SPELLINGS, parse_pel

# -- strategies ---------------------------------------------------------------------------

text_values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
names = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)
actions = st.one_of(
    st.just("*"),
    st.from_regex(r"[a-z0-9]{1,6}:[A-Za-z*?]{1,8}", fullmatch=True),
    text_values.filter(bool),
)
resources = st.one_of(
    st.just("*"), text_values, st.from_regex(r"arn:aws:s3:::[a-z*/]{1,10}", fullmatch=True)
)
principals = st.one_of(
    st.just(Principal("*", "*")),
    # `tuples(...).map` rather than `builds`: builds() reads the class signature, which a
    # model dataclass whose validator is not built yet (`defer_build`) does not show.
    st.tuples(
        st.sampled_from(["AWS", "Service", "Federated", "CanonicalUser"]),
        text_values,
    ).map(lambda kv: Principal(*kv)),
)
conditions = st.tuples(
    st.sampled_from(_OPERATOR_SPELLINGS),
    st.one_of(st.from_regex(r"aws:[A-Za-z/]{1,10}", fullmatch=True), text_values),
    st.lists(
        st.one_of(text_values, st.sampled_from(["true", "false", "42"])), min_size=1, max_size=3
    ).map(tuple),
).map(lambda parts: Condition(*parts))


def _tuples(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(strategy, min_size=1, max_size=3).map(tuple)


@st.composite
def statements(draw: st.DrawFn) -> Statement:
    kwargs: dict[str, Any] = {}
    kwargs["not_action" if draw(st.booleans()) else "action"] = draw(_tuples(actions))
    which = draw(st.sampled_from(["resource", "not_resource", None]))
    if which:
        kwargs[which] = draw(_tuples(resources))
    who = draw(st.sampled_from(["principal", "not_principal", None]))
    if who:
        kwargs[who] = draw(_tuples(principals))
    return Statement(
        draw(st.sampled_from(Effect)),
        sid=draw(st.none() | text_values),
        condition=tuple(draw(st.lists(conditions, max_size=3))),
        **kwargs,
    )


policies = st.tuples(
    names,
    st.lists(statements(), max_size=4).map(tuple),
    st.sampled_from([VERSION_2012, VERSION_2008, None]),
    st.none() | text_values,
).map(lambda parts: Policy(parts[0], parts[1], version=parts[2], id=parts[3]))


def _parse_policy(text: str) -> Policy:
    document, diagnostics = parse_pel(text, "gen.pel")
    assert diagnostics == [], (text, diagnostics)
    (policy,) = document.policies
    return policy


# -- properties ---------------------------------------------------------------------------


@given(policies)
def test_parse_of_format_gives_the_same_policy(policy: Policy) -> None:
    assert _parse_policy(format_policy(policy)) == policy


@given(policies)
def test_formatting_formatted_text_changes_nothing(policy: Policy) -> None:
    text = format_policy(policy)
    assert format_policy(_parse_policy(text)) == text
    assert format_pel(text) == text


def _normalise(document: dict[str, Any]) -> dict[str, Any]:
    """IAM treats one value and a one-element list alike, and compares condition values as text."""

    def listify(value: Any) -> list[str]:
        values = value if isinstance(value, list) else [value]
        return [json.dumps(v) if not isinstance(v, str) else v for v in values]

    out = dict(document)
    statements_out = []
    for statement in document["Statement"]:
        fixed = {}
        for key, value in statement.items():
            if key in ("Action", "NotAction", "Resource", "NotResource"):
                fixed[key] = listify(value)
            elif key in ("Principal", "NotPrincipal") and isinstance(value, dict):
                fixed[key] = {k: listify(v) for k, v in value.items()}
            elif key == "Condition":
                fixed[key] = {
                    op: {
                        k: [v.lower() if v in ("True", "False") else v for v in listify(x)]
                        for k, x in block.items()
                    }
                    for op, block in value.items()
                }
            else:
                fixed[key] = value
        statements_out.append(fixed)
    out["Statement"] = statements_out
    return out


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(policies.filter(lambda p: p.version is not None))
def test_json_to_pel_to_json_keeps_the_document(policy: Policy) -> None:
    document = policy_to_json(policy)
    pel, diagnostics = json_to_pel(json.dumps(document), "doc.json", name="doc")
    if pel is None:
        # the IAM JSON reader refuses some generated documents AWS would refuse too
        assert diagnostics
        return
    back, problems = pel_to_json(pel, "doc.pel")
    assert problems == [] and back is not None
    assert _normalise(json.loads(back)) == _normalise(document)


@given(st.text(max_size=200))
def test_parser_is_total_on_any_text(text: str) -> None:
    _document, diagnostics = parse_pel(text, "any.pel")
    assert all(d.code.startswith("PE0") for d in diagnostics)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(
    from_lark(
        pel_parser()[0],
        explicit={
            "WORD": st.from_regex(r"[a-z][a-z0-9:*-]{0,6}", fullmatch=True),
            "STRING": st.from_regex(r'"[a-z0-9 :/*]{0,8}"', fullmatch=True),
            "COMMENT": st.just("# c"),
            "WS": st.sampled_from([" ", "\n", "  "]),
        },
    )
)
def test_parser_is_total_on_grammar_shaped_text(text: str) -> None:
    _document, diagnostics = parse_pel(text, "gen.pel")
    assert all(d.code.startswith("PE0") for d in diagnostics)
    formatted = format_pel(text) if not any(d.code == "PE001" for d in diagnostics) else None
    if formatted is not None:
        assert format_pel(formatted) == formatted

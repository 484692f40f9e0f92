"""Condition operators, qualifiers and missing keys, per IAM User Guide, "IAM JSON policy
elements: Condition operators" and "Single-valued vs. multivalued context keys"."""

from __future__ import annotations

import pytest

from policyeval.compiler.conditions import compile_condition, parse_date, parse_operator


def check(
    op: str,
    key: str,
    values: tuple[str, ...],
    context: dict[str, tuple[str, ...]],
    *,
    deny: bool = False,
) -> object:
    return compile_condition(op, key, values, True).evaluate(
        {k.lower(): v for k, v in context.items()}, frozenset(), deny
    )


@pytest.mark.parametrize(
    ("op", "policy", "request_value", "expected"),
    [
        ("StringEquals", "Dev", "Dev", True),
        ("StringEquals", "Dev", "dev", False),
        ("StringEqualsIgnoreCase", "Dev", "dEV", True),
        ("StringLike", "team-*", "team-a", True),
        ("StringLike", "team-?", "team-ab", False),
        ("StringNotEquals", "a", "b", True),
        ("NumericLessThan", "10", "9", True),
        ("NumericGreaterThanEquals", "10", "10", True),
        ("NumericEquals", "10", "ten", False),
        ("DateLessThan", "2020-01-01T00:00:00Z", "2019-12-31T23:59:59Z", True),
        ("DateGreaterThan", "2020-01-01T00:00:00Z", "1577836801", True),
        ("DateEquals", "1577836800", "2020-01-01T00:00:00Z", True),
        ("Bool", "true", "True", True),
        ("Bool", "true", "false", False),
        ("BinaryEquals", "QmluYXJ5", "QmluYXJ5", True),
        ("IpAddress", "10.0.0.0/8", "10.20.30.40", True),
        ("IpAddress", "10.0.0.0/8", "11.0.0.1", False),
        ("IpAddress", "2001:db8::/32", "2001:db8::1", True),
        ("NotIpAddress", "10.0.0.0/8", "2001:db8::1", True),
        ("ArnLike", "arn:aws:iam::*:role/app-*", "arn:aws:iam::111122223333:role/app-web", True),
        (
            "ArnEquals",
            "arn:aws:iam::111122223333:role/x",
            "arn:aws:iam::111122223333:role/y",
            False,
        ),
        ("ArnNotLike", "arn:aws:iam::*:role/app-*", "arn:aws:iam::111122223333:role/db", True),
        ("ArnLike", "arn:aws:s3:::b/*", "not-an-arn", False),
    ],
)
def test_operator_compares_values_by_family(
    op: str, policy: str, request_value: str, expected: bool
) -> None:
    assert check(op, "k", (policy,), {"k": (request_value,)}) is expected


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("StringEquals", False),
        ("StringNotEquals", True),  # negated operators are true on a missing key
        ("StringEqualsIfExists", True),
        ("ForAllValues:StringEquals", True),  # the empty set satisfies "all"
        ("ForAnyValue:StringEquals", False),
        ("ArnNotLike", True),
        ("NotIpAddress", True),
        ("NumericLessThanIfExists", True),
    ],
)
def test_missing_key_behaviour(op: str, expected: bool) -> None:
    assert check(op, "aws:SourceVpc", ("vpc-1",), {}) is expected


def test_null_checks_presence() -> None:
    assert check("Null", "aws:TokenIssueTime", ("true",), {}) is True
    assert check("Null", "aws:TokenIssueTime", ("true",), {"aws:TokenIssueTime": ("x",)}) is False
    assert check("Null", "aws:TokenIssueTime", ("false",), {"aws:TokenIssueTime": ("x",)}) is True


def test_set_qualifiers_on_multivalued_keys() -> None:
    ctx = {"aws:TagKeys": ("env", "team")}
    assert check("ForAllValues:StringEquals", "aws:TagKeys", ("env", "team", "owner"), ctx) is True
    assert check("ForAllValues:StringEquals", "aws:TagKeys", ("env",), ctx) is False
    assert check("ForAnyValue:StringEquals", "aws:TagKeys", ("team",), ctx) is True
    assert check("ForAnyValue:StringNotEquals", "aws:TagKeys", ("env",), ctx) is True
    assert check("ForAllValues:StringNotEquals", "aws:TagKeys", ("env",), ctx) is False


def test_condition_key_names_are_case_insensitive() -> None:
    assert (
        check("StringEquals", "AWS:PrincipalTag/Team", ("a",), {"aws:principaltag/team": ("a",)})
        is True
    )


def test_policy_variables_in_condition_values() -> None:
    ctx = {"aws:username": ("bob",), "s3:prefix": ("home/bob/x",)}
    assert check("StringLike", "s3:prefix", ("home/${aws:username}/*",), ctx) is True
    assert check("StringLike", "s3:prefix", ("home/${aws:PrincipalTag/x, 'bob'}/*",), ctx) is True
    assert check("StringEquals", "s3:prefix", ("a${*}b",), {"s3:prefix": ("a*b",)}) is True
    assert check("StringLike", "s3:prefix", ("a${*}b",), {"s3:prefix": ("axb",)}) is False


def test_unknown_key_yields_the_keys_not_a_guess() -> None:
    result = compile_condition("StringEquals", "aws:SourceVpc", ("vpc-1",), True).evaluate(
        {}, frozenset({"aws:sourcevpc"}), False
    )
    assert result == frozenset({"aws:sourcevpc"})


def test_unknown_operator_never_widens_access() -> None:
    assert parse_operator("StringEqualz") is None
    allow = compile_condition("StringEqualz", "k", ("v",), True)
    assert allow.evaluate({"k": ("v",)}, frozenset(), False) is False
    assert allow.evaluate({"k": ("v",)}, frozenset(), True) is True


def test_date_parsing_accepts_iso_and_epoch() -> None:
    assert parse_date("2020-01-01") == parse_date("1577836800")
    assert parse_date("not a date") is None

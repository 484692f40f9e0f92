"""Reading IAM policy documents: wrappers, validation codes and positions."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from policyeval.readers.iam_json import load_policy_text

DOC = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}


@pytest.mark.parametrize(
    "wrapped",
    [
        DOC,
        {"RoleName": "r", "PolicyName": "inline-read", "PolicyDocument": DOC},
        {"PolicyVersion": {"Document": DOC, "VersionId": "v3", "IsDefaultVersion": True}},
        {"PolicyVersion": {"Document": urllib.parse.quote(json.dumps(DOC)), "VersionId": "v1"}},
        {"Policy": json.dumps(DOC)},
    ],
)
def test_documents_are_read_bare_or_wrapped(wrapped: object) -> None:
    policy, diagnostics = load_policy_text(json.dumps(wrapped), "p.json")
    assert diagnostics == []
    assert policy is not None and policy.statements[0].sid == "A"


def test_policy_name_comes_from_the_wrapper() -> None:
    policy, _ = load_policy_text(
        json.dumps({"PolicyName": "inline-read", "PolicyDocument": DOC}), "x.json"
    )
    assert policy is not None and policy.name == "inline-read"


def test_statement_keeps_its_line_and_column() -> None:
    text = '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Allow", "Action": "*", "Resource": "*"}\n  ]\n}\n'
    policy, _ = load_policy_text(text, "p.json")
    assert policy is not None
    span = policy.statements[0].span
    assert span is not None and (span.line, span.column) == (4, 5)


@pytest.mark.parametrize(
    ("statement", "code"),
    [
        ({"Effect": "Allow", "Action": "*", "Resource": "*", "Actoin": "x"}, "PE044"),
        ({"Effect": "Permit", "Action": "*", "Resource": "*"}, "PE045"),
        ({"Effect": "Allow", "Action": "*", "NotAction": "s3:*", "Resource": "*"}, "PE046"),
        ({"Effect": "Allow", "Resource": "*"}, "PE046"),
        ({"Effect": "Allow", "Action": "*", "Resource": "*", "NotResource": "*"}, "PE047"),
        ({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": ["x"]}, "PE049"),
        (
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEqual": {"a": "b"}},
            },
            "PE050",
        ),
        ({"Effect": "Allow", "Action": 5, "Resource": "*"}, "PE051"),
    ],
)
def test_invalid_statements_get_coded_diagnostics_and_no_policy(
    statement: dict[str, object], code: str
) -> None:
    policy, diagnostics = load_policy_text(
        json.dumps({"Version": "2012-10-17", "Statement": [statement]}), "p.json"
    )
    assert policy is None
    assert code in {d.code for d in diagnostics}
    assert all(d.span is not None and d.span.path == "p.json" for d in diagnostics)


def test_unknown_version_and_top_level_element() -> None:
    policy, diagnostics = load_policy_text(
        json.dumps({"Version": "2020-01-01", "Statment": [], "Statement": []}), "p.json"
    )
    assert policy is None
    assert {"PE041", "PE042"} <= {d.code for d in diagnostics}


def test_misspelt_operator_gets_a_did_you_mean() -> None:
    _, diagnostics = load_policy_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "*",
                        "Resource": "*",
                        "Condition": {"StringEqual": {"a": "b"}},
                    }
                ],
            }
        ),
        "p.json",
    )
    assert diagnostics[0].help == "did you mean `StringEquals`?"


def test_malformed_json_is_a_diagnostic_with_position() -> None:
    policy, diagnostics = load_policy_text('{"Version": "2012-10-17",\n "Statement": [}', "p.json")
    assert policy is None
    assert diagnostics[0].span is not None and diagnostics[0].span.line == 2

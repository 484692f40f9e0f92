"""The IAM JSON reader builds its nodes without pydantic validation (`model.trusted`); they
must be exactly what validation would have made, whether the document came from a file
(the position-aware loader hands out `str` subclasses) or from plain parsed JSON (the batch
mode)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from policyeval.readers.iam_json import load_policy_text, policy_from_document
from tests.model_checks import assert_nodes_are_what_validation_makes, model_nodes
from tests.strategies import cases

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted(
    [
        *(ROOT / "policyeval" / "data" / "managed_policies").glob("*.json"),
        *(ROOT / "samples").rglob("*.json"),
    ]
)

ODD = {
    "Version": "2012-10-17",
    "Id": "odd",
    "Statement": [
        {
            "Sid": "S1",
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "444455556666"]},
            "NotAction": "s3:Delete*",
            "NotResource": ["arn:aws:s3:::b/${aws:username}/*"],
            "Condition": {
                "Bool": {"aws:SecureTransport": True},
                "NumericLessThan": {"s3:max-keys": 10},
                "ForAnyValue:StringLike": {"aws:TagKeys": ["a*", "b?"]},
            },
        },
        {"Effect": "Deny", "NotPrincipal": "*", "Action": ["*"], "Resource": "*"},
        {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
    ],
}


def _check_both_ways(text: str) -> None:
    from_file, problems = load_policy_text(text, "doc.json")
    plain, plain_problems = policy_from_document(orjson.loads(text), "doc", "doc.json")
    assert [p.code for p in problems] == [p.code for p in plain_problems]
    for policy in (from_file, plain):
        if policy is not None:
            assert any(True for _ in model_nodes(policy))
            assert_nodes_are_what_validation_makes(policy)


def test_repository_documents_build_the_nodes_validation_builds() -> None:
    assert DOCUMENTS, "no policy documents found"
    for path in DOCUMENTS:
        _check_both_ways(path.read_text(encoding="utf-8"))


def test_every_element_shape_builds_the_nodes_validation_builds() -> None:
    _check_both_ways(json.dumps(ODD, indent=2))
    wrapped = {"PolicyName": "inline", "PolicyDocument": ODD}
    _check_both_ways(json.dumps(wrapped))


def test_a_file_document_holds_plain_strings_only() -> None:
    policy, _ = load_policy_text(json.dumps(ODD), "doc.json")
    assert policy is not None
    statement = policy.statements[0]
    texts: list[Any] = [
        policy.name,
        policy.id,
        statement.sid,
        *(p.kind for p in statement.principal or ()),
        *(p.value for p in statement.principal or ()),
        *(c.operator for c in statement.condition),
        *(c.key for c in statement.condition),
    ]
    assert all(type(t) is str for t in texts)


@settings(max_examples=60)
@given(cases())
def test_generated_documents_build_the_nodes_validation_builds(case: dict[str, Any]) -> None:
    documents = [*case.get("identityPolicies", ()), case.get("resourcePolicy")]
    for document in documents:
        if isinstance(document, dict):
            _check_both_ways(json.dumps(document))


@given(st.sampled_from(["Allow", "Deny", "allow", 7]), st.sampled_from(["s3:*", 5, ["a:b"]]))
def test_invalid_statements_still_get_the_same_diagnostics(effect: Any, action: Any) -> None:
    document = {"Version": "2012-10-17", "Statement": {"Effect": effect, "Action": action}}
    _check_both_ways(json.dumps(document))

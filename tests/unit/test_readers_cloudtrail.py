"""CloudTrail records as recorded usage."""

from __future__ import annotations

import json

import pytest

from policyeval.readers.cloudtrail import action_of, read_cloudtrail_usage

ROLE = "arn:aws:iam::111122223333:role/orders-api-task"


def _record(source: str, name: str, **extra: object) -> dict[str, object]:
    return {
        "eventSource": source,
        "eventName": name,
        "userIdentity": {
            "type": "AssumedRole",
            "arn": "arn:aws:sts::111122223333:assumed-role/orders-api-task/abc",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": ROLE}},
        },
        **extra,
    }


@pytest.mark.parametrize(
    ("source", "name", "action"),
    [
        ("s3.amazonaws.com", "GetObject", "s3:GetObject"),
        ("monitoring.amazonaws.com", "PutMetricData", "cloudwatch:PutMetricData"),
        ("email.amazonaws.com", "SendEmail", "ses:SendEmail"),
        ("lambda.amazonaws.com", "GetFunction20150331v2", "lambda:GetFunction"),
        ("runtime.sagemaker.amazonaws.com", "InvokeEndpoint", "sagemaker:InvokeEndpoint"),
    ],
)
def test_event_source_and_name_map_to_the_iam_action(source: str, name: str, action: str) -> None:
    assert action_of(source, name) == action


def test_assumed_role_calls_count_for_the_role_with_their_resources() -> None:
    records = [
        _record("s3.amazonaws.com", "GetObject", resources=[{"ARN": "arn:aws:s3:::b/k1"}]),
        _record("s3.amazonaws.com", "GetObject", resources=[{"ARN": "arn:aws:s3:::b/k2"}]),
        _record("sqs.amazonaws.com", "SendMessage"),
        _record("s3.amazonaws.com", "DeleteObject", errorCode="AccessDenied"),
    ]
    usage, ws = read_cloudtrail_usage(json.dumps({"Records": records}), "trail.json")
    assert list(usage) == [ROLE]
    assert [(n.action, n.resources) for n in usage[ROLE]] == [
        ("s3:GetObject", ("arn:aws:s3:::b/k1", "arn:aws:s3:::b/k2")),
        ("sqs:SendMessage", ("*",)),
    ]
    assert dict(ws.recorded_usage)[ROLE] == tuple(usage[ROLE])
    assert [d.code for d in ws.diagnostics] == ["PE067"]  # the failed call, noted


def test_records_without_identity_are_reported_with_their_position() -> None:
    text = '{"Records": [\n  {"eventSource": "s3.amazonaws.com", "eventName": "GetObject"}\n]}'
    usage, ws = read_cloudtrail_usage(text, "trail.json")
    assert usage == {}
    (diagnostic,) = ws.diagnostics
    assert diagnostic.code == "PE067" and diagnostic.span is not None
    assert diagnostic.span.line == 2

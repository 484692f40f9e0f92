"""get-account-authorization-details: roles, profiles, default versions, encodings."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

from policyeval.readers.account_dump import read_account_dump

FORMATS = Path(__file__).parent.parent / "fixtures" / "formats"
DUMP = FORMATS / "iam-get-account-authorization-details.json"


def test_roles_carry_inline_attached_boundary_and_trust() -> None:
    ws = read_account_dump(DUMP.read_text(), str(DUMP))
    assert ws.account == "111122223333"
    task = next(r for r in ws.roles if r.name == "orders-api-task")
    assert [p.name for p in task.inline] == ["orders-table-rw"]
    assert [a.ref for a in task.managed] == ["arn:aws:iam::111122223333:policy/orders-data-access"]
    assert task.boundary is not None
    assert task.boundary.ref == "arn:aws:iam::111122223333:policy/workload-boundary"
    assert task.trust is not None
    assert task.trust.statements[0].principal is not None
    assert task.trust.statements[0].principal[0].value == "ecs-tasks.amazonaws.com"
    assert task.tags == (("team", "orders"),)


def test_managed_policies_use_the_default_version_only() -> None:
    ws = read_account_dump(DUMP.read_text(), str(DUMP))
    data = next(m for m in ws.managed_policies if m.name == "orders-data-access")
    (statement,) = data.document.statements
    assert statement.action == ("s3:GetObject", "s3:PutObject")  # v2, not the s3:* of v1


def test_instance_profiles_come_from_each_role() -> None:
    ws = read_account_dump(DUMP.read_text(), str(DUMP))
    (profile,) = ws.instance_profiles
    assert profile.name == "ecsInstanceRole"
    assert profile.role is not None
    assert profile.role.value == "arn:aws:iam::111122223333:role/ecsInstanceRole"


def test_missing_aws_managed_policies_fall_back_to_bundled_data() -> None:
    ws = read_account_dump(DUMP.read_text(), str(DUMP))
    names = {m.name for m in ws.managed_policies}
    assert "AmazonEC2ContainerServiceforEC2Role" in names  # attached, not in `Policies`
    unknown = [d for d in ws.diagnostics if "AmazonS3FullAccess" in d.message]
    assert [d.code for d in unknown] == ["PE065"]


def test_users_and_groups_are_skipped_with_an_info_note() -> None:
    ws = read_account_dump(DUMP.read_text(), str(DUMP))
    notes = [d for d in ws.diagnostics if d.severity == "info"]
    assert any("1 user and 1 group" in d.message for d in notes)


def _dump_with_trust(trust: object) -> str:
    role = {
        "RoleName": "r",
        "Arn": "arn:aws:iam::123456789012:role/r",
        "AssumeRolePolicyDocument": trust,
        "RolePolicyList": [],
        "AttachedManagedPolicies": [],
        "InstanceProfileList": [],
    }
    return json.dumps({"RoleDetailList": [role], "Policies": []})


def test_url_encoded_and_string_documents_are_decoded() -> None:
    """IAM API Reference: raw API output URL-encodes policy documents."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    for encoded in (urllib.parse.quote(json.dumps(trust)), json.dumps(trust)):
        ws = read_account_dump(_dump_with_trust(encoded), "raw.json")
        assert ws.diagnostics == ()
        trust_policy = ws.roles[0].trust
        assert trust_policy is not None
        assert trust_policy.statements[0].action == ("sts:AssumeRole",)
        assert trust_policy.span is not None and trust_policy.span.line == 1


def test_a_broken_document_is_reported_and_the_role_is_still_read() -> None:
    ws = read_account_dump(_dump_with_trust("%7Bnot json"), "raw.json")
    assert [r.name for r in ws.roles] == ["r"]
    assert ws.roles[0].trust is None
    assert [d.code for d in ws.diagnostics] == ["PE060"]


def test_wrong_shapes_are_pe062_not_crashes() -> None:
    ws = read_account_dump('{"RoleDetailList": {"no": "list"}, "Policies": [1]}', "x.json")
    assert sorted(d.code for d in ws.diagnostics) == ["PE062", "PE062"]
    assert ws.roles == ()

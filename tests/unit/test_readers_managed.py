"""Bundled AWS managed policies: look-up by name or ARN, with version data."""

from __future__ import annotations

from policyeval.managed import (
    bundled_managed_policies,
    is_aws_managed_arn,
    managed_policy,
    managed_policy_info,
)


def test_every_bundled_policy_loads_without_diagnostics() -> None:
    infos = bundled_managed_policies()
    assert len(infos) == 11
    for info in infos:
        policy = managed_policy(info.name)
        assert policy is not None, info.name
        assert policy.arn == info.arn and policy.document.statements


def test_lookup_by_arn_requires_the_right_path_and_accepts_other_partitions() -> None:
    """Several ECS policies live under `service-role/` (IAM User Guide, managed policies)."""
    arn = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
    assert managed_policy(arn) is not None
    assert managed_policy("arn:aws:iam::aws:policy/AmazonEC2ContainerServiceforEC2Role") is None
    china = "arn:aws-cn:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
    assert managed_policy(china) is not None
    assert managed_policy("arn:aws:iam::111122223333:policy/AmazonEKS_CNI_Policy") is None
    assert managed_policy("NoSuchPolicy") is None


def test_version_and_date_are_recorded() -> None:
    info = managed_policy_info("AmazonEC2ContainerServiceforEC2Role")
    assert info is not None and (info.version, info.date[:10]) == ("v10", "2026-02-12")
    ecs = managed_policy("AmazonEC2ContainerServiceforEC2Role")
    assert ecs is not None
    actions = {a for s in ecs.document.statements for a in (s.action or ())}
    assert {"ecs:RegisterContainerInstance", "ecs:Submit*", "ecr:BatchGetImage"} <= actions


def test_aws_managed_arns_are_recognised() -> None:
    assert is_aws_managed_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert not is_aws_managed_arn("arn:aws:iam::123456789012:policy/x")
    assert not is_aws_managed_arn("ReadOnlyAccess")

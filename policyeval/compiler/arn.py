"""ARNs: parsing, resource matching and principal identities.

Resource matching follows IAM User Guide, "IAM JSON policy elements: Resource": wildcards
work within ARN segments, a `*` at the end of a segment may run past colons, and the match
is case-sensitive. Matching the whole ARN text with IAM wildcards gives exactly that for
well-formed ARNs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

_ACCOUNT = re.compile(r"^\d{12}$")


@lru_cache(maxsize=4096)
def split_arn(arn: str) -> tuple[str, ...] | None:
    """`arn:partition:service:region:account:resource` → six parts, or None."""
    if not arn.startswith("arn:"):
        return None
    parts = tuple(arn.split(":", 5))
    return parts if len(parts) == 6 else None


def account_of(arn: str) -> str | None:
    """The account field of an ARN (None when empty, or for text that is not an ARN).
    Not through `split_arn`'s cache: request resources are mostly distinct."""
    if not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 5)
    return (parts[4] or None) if len(parts) == 6 else None


class PrincipalType(StrEnum):
    ROLE = "role"
    ASSUMED_ROLE = "assumed-role"
    USER = "user"
    FEDERATED_USER = "federated-user"
    ROOT = "root"
    SERVICE = "service"
    ANONYMOUS = "anonymous"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class PrincipalIdentity:
    """Who is asking, in the forms a Principal element can name them."""

    raw: str
    type: PrincipalType
    account: str | None
    partition: str = "aws"
    name: str | None = None  # role, user or federated-user name
    session: str | None = None
    path: str = "/"

    @property
    def role_arn_suffix(self) -> str | None:
        return f"role{self.path}{self.name}" if self.type is PrincipalType.ROLE else None

    @property
    def is_service_linked_role(self) -> bool:
        """Service-linked roles live under the `/aws-service-role/` path; SCPs do not apply
        to them (AWS Organizations User Guide, "Service control policies")."""
        return self.type in (PrincipalType.ROLE, PrincipalType.ASSUMED_ROLE) and (
            self.path.startswith("/aws-service-role/")
        )


@lru_cache(maxsize=4096)
def parse_principal(raw: str) -> PrincipalIdentity:
    """Classify a request principal: role, session, user, federated user, service, anonymous."""
    text = raw.strip()
    if text.lower() == "anonymous" or text == "*":
        return PrincipalIdentity(text, PrincipalType.ANONYMOUS, None)
    if not text.startswith("arn:"):
        if _ACCOUNT.match(text):
            return PrincipalIdentity(text, PrincipalType.ROOT, text)
        return PrincipalIdentity(text, PrincipalType.SERVICE, None, name=text.lower())
    parts = split_arn(text)
    if parts is None:
        return PrincipalIdentity(text, PrincipalType.OTHER, None)
    _, partition, service, _, account, resource = parts
    if service == "iam":
        if resource == "root":
            return PrincipalIdentity(text, PrincipalType.ROOT, account, partition)
        kind, _, rest = resource.partition("/")
        name = rest.rsplit("/", 1)[-1]
        path = "/" + rest[: len(rest) - len(name)] if "/" in rest else "/"
        if kind == "role":
            return PrincipalIdentity(text, PrincipalType.ROLE, account, partition, name, None, path)
        if kind == "user":
            return PrincipalIdentity(text, PrincipalType.USER, account, partition, name, None, path)
    if service == "sts":
        kind, _, rest = resource.partition("/")
        if kind == "assumed-role" and "/" in rest:
            role, session = rest.split("/", 1)
            return PrincipalIdentity(
                text, PrincipalType.ASSUMED_ROLE, account, partition, role, session
            )
        if kind == "federated-user":
            return PrincipalIdentity(text, PrincipalType.FEDERATED_USER, account, partition, rest)
    return PrincipalIdentity(text, PrincipalType.OTHER, account or None, partition)


class PrincipalMatch(StrEnum):
    """How a Principal entry names the requester; decides which gates a resource grant skips.

    IAM User Guide, "Policy evaluation logic" (role sessions): a resource-policy grant to
    the exact session, user or federated-user ARN is not capped by an implicit deny in a
    permissions boundary or session policy; a grant to the role ARN is.
    """

    DIRECT = "direct"  # the exact session / user / federated-user / service principal
    ROLE = "role"  # the role that the session belongs to
    ACCOUNT = "account"  # the account (`123456789012` or `…:root`)
    EVERYONE = "everyone"  # "*"


# Enum members read on every resource-policy statement match, bound once (on Python 3.11 a
# class attribute read of an enum member goes through a descriptor).
_EVERYONE = PrincipalMatch.EVERYONE
_DIRECT = PrincipalMatch.DIRECT
_ACCOUNT_MATCH = PrincipalMatch.ACCOUNT
_ROLE_MATCH = PrincipalMatch.ROLE
_ANONYMOUS = PrincipalType.ANONYMOUS
_SERVICE = PrincipalType.SERVICE
_ROLE = PrincipalType.ROLE
_ASSUMED_ROLE = PrincipalType.ASSUMED_ROLE


def match_principal_entry(kind: str, value: str, who: PrincipalIdentity) -> PrincipalMatch | None:
    """Does one Principal entry (`AWS`, `Service`, `Federated`, `CanonicalUser`, `*`) name `who`?"""
    value = value.strip()
    if kind == "*" or (kind == "AWS" and value == "*"):
        return _EVERYONE
    if who.type is _ANONYMOUS:
        return None
    if kind == "Service":
        if who.type is _SERVICE and value.lower() == who.name:
            return _DIRECT
        return None
    if kind == "Federated":
        if who.type is _SERVICE and value.lower() == who.name:
            return _DIRECT
        return _DIRECT if value == who.raw else None
    if kind == "CanonicalUser":
        return _DIRECT if value == who.raw else None
    if kind != "AWS" or who.type is _SERVICE:
        return None
    # An account, as an ID or as its root ARN.
    if _ACCOUNT.match(value):
        return _ACCOUNT_MATCH if who.account == value else None
    parts = split_arn(value)
    if parts is None:
        return None
    _, partition, service, _, account, resource = parts
    if partition != who.partition or account != who.account:
        return None
    if service == "iam" and resource == "root":
        return _ACCOUNT_MATCH
    if value == who.raw:
        if who.type is _ROLE:
            return _ROLE_MATCH
        return _DIRECT
    # A role ARN (with any path) names every session of that role.
    is_role_entry = service == "iam" and resource.startswith("role/")
    session_of_role = who.type in (_ASSUMED_ROLE, _ROLE)
    if is_role_entry and session_of_role and resource.rsplit("/", 1)[-1] == who.name:
        return _ROLE_MATCH
    return None

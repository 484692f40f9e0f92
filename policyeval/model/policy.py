"""The IAM policy model: Policy, Statement, Condition, Principal.

AWS spellings for AWS things. Nodes are frozen; spans take no part in equality, so a
policy parsed from `.pel` equals the same policy read from JSON.
"""

from __future__ import annotations

from dataclasses import field
from enum import StrEnum

from pydantic import ConfigDict
from pydantic.dataclasses import dataclass

from policyeval.errors import Span

#: Validators are built on first use (`defer_build`): the batch mode, the `.pel` parser and
#: the JSON reader build nodes with trusted constructors and may never validate one.
_FROZEN = ConfigDict(extra="forbid", arbitrary_types_allowed=True, defer_build=True)

#: The policy language versions AWS accepts. Only 2012-10-17 substitutes policy variables
#: (IAM User Guide, "IAM JSON policy elements: Version").
VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"
KNOWN_VERSIONS = (VERSION_2012, VERSION_2008)


class Effect(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


class PolicyKind(StrEnum):
    """Which evaluation gate a policy feeds."""

    IDENTITY = "identity"
    RESOURCE = "resource"
    TRUST = "trust"
    BOUNDARY = "boundary"
    SESSION = "session"
    SCP = "scp"
    RCP = "rcp"


@dataclass(frozen=True, config=_FROZEN)
class Principal:
    """One principal entry. `kind` is `AWS`, `Service`, `Federated`, `CanonicalUser` or `*`
    (the bare `"Principal": "*"`)."""

    kind: str
    value: str
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class Condition:
    """One operator/key pair of a Condition block, e.g. `StringLike` on `aws:PrincipalTag/team`.

    `operator` keeps the full spelling including any `ForAllValues:`/`ForAnyValue:` prefix and
    `IfExists` suffix. Values are kept as text: IAM compares `true` and `"true"` alike.
    """

    operator: str
    key: str
    values: tuple[str, ...]
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class Statement:
    """One statement. Exactly one of `action`/`not_action` is set, at most one of
    `resource`/`not_resource` and of `principal`/`not_principal`."""

    effect: Effect
    sid: str | None = None
    action: tuple[str, ...] | None = None
    not_action: tuple[str, ...] | None = None
    resource: tuple[str, ...] | None = None
    not_resource: tuple[str, ...] | None = None
    principal: tuple[Principal, ...] | None = None
    not_principal: tuple[Principal, ...] | None = None
    condition: tuple[Condition, ...] = ()
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class Policy:
    """A policy document with a name for explanations. `version` is None when the document
    has no Version element (AWS then treats policy variables as literal text)."""

    name: str
    statements: tuple[Statement, ...]
    version: str | None = VERSION_2012
    id: str | None = None
    span: Span | None = field(default=None, compare=False, repr=False)

    @property
    def substitutes_variables(self) -> bool:
        return self.version == VERSION_2012

"""`.pel` text → document of model nodes, with Diagnostics instead of exceptions.

Two passes, like cedar's text → AST → resolved model: `_Builder` makes model nodes without
looking anything up, one method per grammar rule, and `policyeval.pel` resolves names and
imports afterwards. Every node carries its `Span`. The builder's methods run as the LALR
parser reduces each rule (`syntax/driver.py`: Lark's tables, no parse tree, no recursion);
text that is not in the language is parsed by Lark itself, whose errors and per-item
recovery give the syntax diagnostics (`_parse_with`), and nothing is built from it.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from policyeval.errors import Diagnostic, Severity, Span
from policyeval.limits import (
    CODE_POLICY_TOO_LARGE,
    MAX_POLICY_ENTRIES,
    TOO_LARGE_HELP,
    policy_entries,
    too_large_message,
)
from policyeval.model.expect import Expectation, Need, Suppression
from policyeval.model.policy import (
    VERSION_2012,
    Condition,
    Effect,
    Policy,
    Principal,
    Statement,
)
from policyeval.model.topology import (
    Capacity,
    Container,
    EcrRepository,
    EcsCluster,
    EksCluster,
    Function,
    HostMount,
    HostSettings,
    InstanceProfile,
    LaunchType,
    MetadataOptions,
    NodeGroup,
    NodeGroupKind,
    OrgPolicyAttachment,
    Pod,
    PolicyAttachment,
    Ref,
    Role,
    Service,
    ServiceAccount,
    Task,
)
from policyeval.model.trusted import trusted, validators_free
from policyeval.syntax.driver import Action, FastParser, PelToken, Rejected, Unsupported
from policyeval.syntax.grammar import load_driver_tables, pel_parser, store_driver_tables

if TYPE_CHECKING:  # Lark is imported only where a text is parsed by Lark itself
    from lark import Token, Tree
    from lark.exceptions import UnexpectedInput

#: Larger inputs are refused before lexing (PE005): a `.pel` file is hand-written text.
MAX_PEL_BYTES = 8 * 1024 * 1024
#: Syntax errors reported per file before giving up on that file.
MAX_SYNTAX_ERRORS = 20

# -- diagnostic codes (docs/language.md lists them) -----------------------------------------
SYNTAX_ERROR = "PE001"
UNKNOWN_OPERATOR = "PE002"
BAD_STRING = "PE003"
BAD_SETTING = "PE004"
TOO_LARGE = "PE005"
DUPLICATE_ELEMENT = "PE006"
MISSING_SETTING = "PE007"

#: IAM condition operators without qualifiers (IAM User Guide, "IAM JSON policy elements:
#: Condition operators"). `IfExists` may follow any but `Null`; `ForAllValues:` and
#: `ForAnyValue:` may precede any.
CONDITION_OPERATORS: tuple[str, ...] = (
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
)
SET_QUALIFIERS = ("ForAllValues:", "ForAnyValue:")

PRINCIPAL_KINDS = {
    "aws": "AWS",
    "service": "Service",
    "federated": "Federated",
    "canonical-user": "CanonicalUser",
}
NETWORK_MODES = ("bridge", "host", "awsvpc", "none")
PID_MODES = ("host", "task")
IPC_MODES = ("host", "task", "none")
LAUNCH_TYPES = {
    "ec2": LaunchType.EC2,
    "fargate": LaunchType.FARGATE,
    "external": LaunchType.EXTERNAL,
}
NODE_KINDS = {"managed": NodeGroupKind.MANAGED, "self-managed": NodeGroupKind.SELF_MANAGED}
IPTABLES = {"block-imds": True, "allow-imds": False}
ON_OFF = ("enabled", "disabled")
TOKENS = ("optional", "required")


def split_operator(operator: str) -> tuple[str | None, str, bool]:
    """`ForAnyValue:StringLikeIfExists` → (`ForAnyValue:`, `StringLike`, True)."""
    qualifier = None
    for prefix in SET_QUALIFIERS:
        if operator.startswith(prefix):
            qualifier, operator = prefix, operator[len(prefix) :]
    if_exists = operator.endswith("IfExists") and operator != "IfExists"
    base = operator[: -len("IfExists")] if if_exists else operator
    return qualifier, base, if_exists


def is_known_operator(operator: str) -> bool:
    _, base, if_exists = split_operator(operator)
    return base in CONDITION_OPERATORS and not (if_exists and base == "Null")


def _all_operator_spellings() -> list[str]:
    spellings: list[str] = []
    for base in CONDITION_OPERATORS:
        forms = [base] if base == "Null" else [base, base + "IfExists"]
        for form in forms:
            spellings.append(form)
            spellings.extend(q + form for q in SET_QUALIFIERS)
    return spellings


_OPERATOR_SPELLINGS = _all_operator_spellings()


# -- building nodes without re-validating them (see policyeval.model.trusted) ----------

_Node = TypeVar("_Node")


def _trusted_replace(node: _Node, **changes: Any) -> _Node:
    """`dataclasses.replace` for a node of a `validators_free` class, given exact types."""
    cls = type(node)
    if cls not in _VALIDATORS_FREE:
        return replace(node, **changes)  # type: ignore[type-var]
    copy = object.__new__(cls)
    values = dict(node.__dict__)
    values.update(changes)
    object.__setattr__(copy, "__dict__", values)
    return copy


_HOT_NODES: tuple[type, ...] = (
    Principal,
    Condition,
    Statement,
    Policy,
    PolicyAttachment,
    Ref,
    Role,
)
_VALIDATORS_FREE = frozenset(cls for cls in _HOT_NODES if validators_free(cls))
_principal = trusted(Principal)
_condition = trusted(Condition)
_statement = trusted(Statement)
_policy = trusted(Policy)
_attachment = trusted(PolicyAttachment)
_reference = trusted(Ref)
_role = trusted(Role)


# -- the document -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PolicyImport:
    """`policy NAME = import "file.json"`: a named policy whose document is a JSON file."""

    name: str
    path: str
    span: Span


@dataclass(frozen=True, slots=True)
class FileImport:
    """`import "file"`: another input (task definition, manifest …) named by path."""

    path: str
    span: Span


@dataclass(frozen=True, slots=True)
class RoleDecl:
    """A role whose references to named policies are not yet resolved."""

    role: Role
    trust_ref: Ref | None = None
    inline_refs: tuple[Ref, ...] = ()


@dataclass(frozen=True, slots=True)
class FunctionDecl:
    function: Function
    policy_ref: Ref | None = None


@dataclass(frozen=True, slots=True)
class RepositoryDecl:
    repository: EcrRepository
    policy_ref: Ref | None = None


@dataclass(slots=True)
class PelDocument:
    """What one `.pel` file says, before names and imports are resolved."""

    path: str
    account: str | None = None
    policies: list[Policy] = field(default_factory=list)
    policy_imports: list[PolicyImport] = field(default_factory=list)
    imports: list[FileImport] = field(default_factory=list)
    roles: list[RoleDecl] = field(default_factory=list)
    instance_profiles: list[InstanceProfile] = field(default_factory=list)
    org_policies: list[OrgPolicyAttachment] = field(default_factory=list)
    ecs_clusters: list[EcsCluster] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    eks_clusters: list[EksCluster] = field(default_factory=list)
    node_groups: list[NodeGroup] = field(default_factory=list)
    service_accounts: list[ServiceAccount] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    functions: list[FunctionDecl] = field(default_factory=list)
    repositories: list[RepositoryDecl] = field(default_factory=list)
    expectations: list[Expectation] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    comments: list[Token | PelToken] = field(default_factory=list)


# -- tree → nodes ---------------------------------------------------------------------------


#: Settings a block may give more than once (the others are PE006 when repeated).
_REPEATABLE = frozenset(
    {"attach", "inline", "inline_ref", "tag", "needs", "container", "secret"}
    | {"mount", "env", "agent", "schedule", "ignore", "host_path", "namespaces"}
)
#: Statement elements that exclude each other, and how a repeat of one is named.
_CLASHING_ELEMENTS = {
    "action": "not_action",
    "not_action": "action",
    "resource": "not_resource",
    "not_resource": "resource",
    "principal": "not_principal",
    "not_principal": "principal",
}
_ELEMENT_WORDS = {
    "sid": "`sid`",
    "resource": "`on`",
    "not_resource": "`on`",
    "principal": "`principal`",
    "not_principal": "`principal`",
}


@dataclass(frozen=True, slots=True)
class _Item:
    """One `key value` line inside a block, before the block turns it into a field."""

    key: str
    value: Any
    span: Span


@dataclass(frozen=True, slots=True)
class _Ignore:
    code: str
    reason: str
    target: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class _Cluster:
    cluster: EcsCluster
    tasks: tuple[Task, ...]
    services: tuple[Service, ...]
    ignores: tuple[Suppression, ...]


@dataclass(frozen=True, slots=True)
class _Eks:
    cluster: EksCluster
    node_groups: tuple[NodeGroup, ...]
    service_accounts: tuple[ServiceAccount, ...]
    pods: tuple[Pod, ...]
    ignores: tuple[Suppression, ...]


class _Builder:
    """Builds model nodes, one method per grammar rule; looks nothing up (that is
    `policyeval.pel`'s job).

    Each method receives the rule's span (`meta`, as Lark's `propagate_positions` gives it)
    and its children as Lark's tree builder shapes them. The methods are called while the
    text is parsed (`driver.FastParser`), or over a Lark tree (`_replay`); neither recurses,
    so that no input shape can exhaust the Python stack.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        self.pending_ignores: list[Suppression] = []  # workload ignores, with their workload

    def rule_methods(self, names: Iterable[str]) -> dict[str, Action]:
        """The bound method of every rule name (a KeyError names a rule without one)."""
        methods: dict[str, Action] = {}
        for name in names:
            method = getattr(self, name, None)
            if name.startswith("_") or not callable(method):
                raise KeyError(name)
            methods[name] = method
        return methods

    # helpers ----------------------------------------------------------------------------

    def _span(self, meta: Span) -> Span:
        return meta

    def _tspan(self, token: Token) -> Span:
        return Span(self.path, token.line or 1, token.column or 1, token.end_line, token.end_column)

    def _error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, message, span, help=hint))

    def _text(self, token: Token) -> str:
        """The value a WORD or STRING token stands for (strings use JSON escapes)."""
        if token.type != "STRING":
            return str(token)
        if "\\" not in token:
            # no escapes: JSON decoding (strict=False) gives the text between the quotes
            return str(token)[1:-1]
        try:
            decoded = json.loads(str(token), strict=False)
        except ValueError:
            self._error(
                BAD_STRING,
                "invalid escape sequence in string",
                self._tspan(token),
                hint='strings use JSON escapes: \\" \\\\ \\n \\t \\uXXXX',
            )
            return str(token)[1:-1]
        return str(decoded)

    def _choice(self, token: Token, options: tuple[str, ...] | dict[str, Any], what: str) -> str:
        value = self._text(token)
        if value in options:
            return value
        names = list(options)
        close = difflib.get_close_matches(value, names, n=1)
        hint = f"did you mean `{close[0]}`?" if close else None
        allowed = ", ".join(f"`{n}`" for n in names)
        self._error(
            BAD_SETTING,
            f"unknown {what} `{value}`",
            self._tspan(token),
            hint=hint or f"expected one of {allowed}",
        )
        return names[0]

    def _ref(self, token: Token) -> Ref:
        return _reference(self._text(token), span=self._tspan(token))

    def _fields(self, items: list[Any], owner: str) -> tuple[dict[str, _Item], list[_Item]]:
        """Single-valued settings by key (a repeat is PE006), plus the repeatable ones."""
        single: dict[str, _Item] = {}
        many: list[_Item] = []
        repeatable = _REPEATABLE
        for item in items:
            if not isinstance(item, _Item):
                continue
            if item.key in repeatable:
                many.append(item)
            elif item.key in single:
                self._error(
                    DUPLICATE_ELEMENT,
                    f"`{item.key.replace('_', '-')}` is given twice in {owner}",
                    item.span,
                    hint="keep one; the first one given is used",
                )
            else:
                single[item.key] = item
        return single, many

    def _ignores(self, many: list[_Item], workload: str | None) -> tuple[Suppression, ...]:
        out = []
        for item in many:
            if item.key == "ignore":
                raw: _Ignore = item.value
                out.append(Suppression(raw.code, raw.reason, raw.target or workload, raw.span))
        return tuple(out)

    def _needs(self, many: list[_Item]) -> tuple[Need, ...]:
        return tuple(n for item in many if item.key == "needs" for n in item.value)

    # top level --------------------------------------------------------------------------

    def start(self, meta: Any, children: list[Any]) -> list[Any]:
        return children

    def account(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("account", self._text(c[0]), self._span(meta))

    def import_stmt(self, meta: Any, c: list[Any]) -> FileImport:
        return FileImport(self._text(c[0]), self._span(meta))

    # policies -----------------------------------------------------------------------------

    def policy_def(self, meta: Any, c: list[Any]) -> Policy:
        body: Policy = c[1]
        return _trusted_replace(body, name=self._text(c[0]), span=self._span(meta))

    def policy_import(self, meta: Any, c: list[Any]) -> PolicyImport:
        return PolicyImport(self._text(c[0]), self._text(c[1]), self._span(meta))

    def policy_body(self, meta: Any, c: list[Any]) -> Policy:
        single, _ = self._fields([x for x in c if isinstance(x, _Item)], "a policy")
        version: str | None = VERSION_2012
        if "version" in single:
            version = single["version"].value
        policy_id = single["id"].value if "id" in single else None
        statements = tuple(x for x in c if isinstance(x, Statement))
        policy = _policy("", statements, version=version, id=policy_id, span=self._span(meta))
        entries = policy_entries(policy)
        if entries > MAX_POLICY_ENTRIES:
            self._error(
                CODE_POLICY_TOO_LARGE,
                too_large_message(entries, MAX_POLICY_ENTRIES),
                self._span(meta),
                TOO_LARGE_HELP,
            )
            return replace(policy, statements=())
        return policy

    def version(self, meta: Any, c: list[Any]) -> _Item:
        token: Token = c[0]
        value: str | None = self._text(token)
        if token.type == "WORD" and value == "none":
            value = None
        return _Item("version", value, self._span(meta))

    def policy_id(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("id", self._text(c[0]), self._span(meta))

    def statement(self, meta: Any, c: list[Any]) -> Statement:
        effect: Effect = c[0]
        kwargs: dict[str, Any] = {}
        conditions: list[Condition] = []
        for part in c[1:]:
            if isinstance(part, Condition):
                conditions.append(part)
                continue
            key, value, span = part.key, part.value, part.span
            clash = _CLASHING_ELEMENTS.get(key)
            if key in kwargs or (clash is not None and clash in kwargs):
                self._error(
                    DUPLICATE_ELEMENT,
                    f"{_ELEMENT_WORDS.get(key, key)} is given twice in one statement",
                    span,
                    hint="list every value in one clause, separated by commas",
                )
                continue
            kwargs[key] = value
        return _statement(effect, condition=tuple(conditions), span=self._span(meta), **kwargs)

    def allow(self, meta: Any, c: list[Any]) -> Effect:
        return Effect.ALLOW

    def deny(self, meta: Any, c: list[Any]) -> Effect:
        return Effect.DENY

    def _values(self, c: list[Any]) -> tuple[str, ...]:
        return tuple(self._text(t) for t in c)

    def _actions(self, c: list[Any]) -> tuple[str, ...]:
        # A bare word that is not `*` and has no `service:` prefix is almost always a
        # keyword in the wrong place (`allow on …`); quoted text is taken as written.
        for token in c:
            if token.type == "WORD" and token != "*" and ":" not in token:
                self._error(
                    BAD_SETTING,
                    f"`{token}` is not an action",
                    self._tspan(token),
                    hint="actions are `service:Action`, e.g. `s3:GetObject`, or `*`",
                )
        return self._values(c)

    def actions(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("action", self._actions(c), self._span(meta))

    def not_actions(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("not_action", self._actions(c), self._span(meta))

    def sid(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("sid", self._text(c[0]), self._span(meta))

    def resources(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("resource", self._values(c), self._span(meta))

    def not_resources(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("not_resource", self._values(c), self._span(meta))

    def principals(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("principal", tuple(c), self._span(meta))

    def not_principals(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("not_principal", tuple(c), self._span(meta))

    def principal_any(self, meta: Any, c: list[Any]) -> Principal:
        return _principal("*", "*", span=self._span(meta))

    def principal_entry(self, meta: Any, c: list[Any]) -> Principal:
        return _principal(PRINCIPAL_KINDS[c[0]], self._text(c[1]), span=self._span(meta))

    def _keyword(self, meta: Any, c: list[Any]) -> str:
        return str(c[0])

    principal_kind = org_level_kind = verdict = quantifier = subject_kind = _keyword

    def condition(self, meta: Any, c: list[Any]) -> Condition:
        operator_token: Token = c[0]
        operator = self._text(operator_token)
        if not is_known_operator(operator):
            close = difflib.get_close_matches(operator, _OPERATOR_SPELLINGS, n=1, cutoff=0.6)
            self._error(
                UNKNOWN_OPERATOR,
                f"unknown condition operator `{operator}`",
                self._tspan(operator_token),
                hint=f"did you mean `{close[0]}`?"
                if close
                else "operators are spelt as in IAM JSON, e.g. `StringEquals`, `ArnLike`",
            )
        return _condition(operator, self._text(c[1]), self._values(c[2:]), span=self._span(meta))

    # roles --------------------------------------------------------------------------------

    def role(self, meta: Any, c: list[Any]) -> RoleDecl:
        name = self._text(c[0])
        single, many = self._fields(c[1:], f"role `{name}`")
        trust: Policy | None = None
        trust_ref: Ref | None = None
        trusts = [single[k] for k in ("trust_service", "trust_policy", "trust_ref") if k in single]
        for extra in trusts[1:]:
            self._error(DUPLICATE_ELEMENT, f"role `{name}` has two trust policies", extra.span)
        if trusts:
            first = trusts[0]
            if first.key == "trust_ref":
                trust_ref = first.value
            else:
                trust = _trusted_replace(first.value, name=f"{name}-trust")
        managed = tuple(a for item in many if item.key == "attach" for a in item.value)
        inline = tuple(item.value for item in many if item.key == "inline")
        inline_refs = tuple(item.value for item in many if item.key == "inline_ref")
        tags = tuple(item.value for item in many if item.key == "tag")
        boundary = single["boundary"].value if "boundary" in single else None
        arn = single["arn"].value if "arn" in single else None
        role = _role(
            name,
            arn=arn,
            trust=trust,
            managed=managed,
            inline=inline,
            boundary=boundary,
            tags=tags,
            span=self._span(meta),
        )
        return RoleDecl(role, trust_ref, inline_refs)

    def trust_service(self, meta: Any, c: list[Any]) -> _Item:
        span = self._span(meta)
        principals = tuple(_principal("Service", self._text(t), span=self._tspan(t)) for t in c)
        # The trust policy ECS, EKS and Lambda document for their service principals
        # (IAM User Guide, "Creating a role to delegate permissions to an AWS service").
        statement = _statement(
            Effect.ALLOW, action=("sts:AssumeRole",), principal=principals, span=span
        )
        return _Item("trust_service", _policy("", (statement,), span=span), span)

    def trust_ref(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("trust_ref", self._ref(c[0]), self._span(meta))

    def trust_policy(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("trust_policy", c[0], self._span(meta))

    def attach(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("attach", tuple(c), self._span(meta))

    def boundary(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("boundary", c[0], self._span(meta))

    def by_name(self, meta: Any, c: list[Any]) -> PolicyAttachment:
        ref = self._text(c[0])
        aws_managed = ref.startswith("arn:") and ref.split(":")[4:5] == ["aws"]
        return _attachment(ref, aws_managed=aws_managed, span=self._span(meta))

    def aws_managed(self, meta: Any, c: list[Any]) -> PolicyAttachment:
        return _attachment(self._text(c[0]), aws_managed=True, span=self._span(meta))

    def inline_ref(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("inline_ref", self._ref(c[0]), self._span(meta))

    def inline_policy(self, meta: Any, c: list[Any]) -> _Item:
        policy: Policy = c[1]
        span = self._span(meta)
        return _Item("inline", _trusted_replace(policy, name=self._text(c[0]), span=span), span)

    def tag(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("tag", (self._text(c[0]), self._text(c[1])), self._span(meta))

    def arn(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("arn", self._text(c[0]), self._span(meta))

    def instance_profile(self, meta: Any, c: list[Any]) -> InstanceProfile:
        name = self._text(c[0])
        single, _ = self._fields(c[1:], f"instance profile `{name}`")
        return InstanceProfile(
            name,
            arn=single["arn"].value if "arn" in single else None,
            role=single["role"].value if "role" in single else None,
            span=self._span(meta),
        )

    def profile_role(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("role", self._ref(c[0]), self._span(meta))

    # organisations --------------------------------------------------------------------------

    def organization(self, meta: Any, c: list[Any]) -> list[OrgPolicyAttachment]:
        out: list[OrgPolicyAttachment] = []
        for level, entries in enumerate(c):
            out.extend(replace(entry, level=level) for entry in entries)
        return out

    def org_level(self, meta: Any, c: list[Any]) -> list[OrgPolicyAttachment]:
        return [a for part in c if isinstance(part, list) for a in part]

    def _org(self, kind: str, c: list[Any]) -> list[OrgPolicyAttachment]:
        return [OrgPolicyAttachment(kind, 0, self._text(t), span=self._tspan(t)) for t in c]

    def org_scp(self, meta: Any, c: list[Any]) -> list[OrgPolicyAttachment]:
        return self._org("scp", c)

    def org_rcp(self, meta: Any, c: list[Any]) -> list[OrgPolicyAttachment]:
        return self._org("rcp", c)

    # ECS ------------------------------------------------------------------------------------

    def cluster(self, meta: Any, c: list[Any]) -> _Cluster:
        name = self._text(c[0])
        capacities = tuple(x for x in c[1:] if isinstance(x, Capacity))
        tasks = tuple(replace(t, cluster=name) for t in c[1:] if isinstance(t, Task))
        services = tuple(replace(s, cluster=name) for s in c[1:] if isinstance(s, Service))
        _, many = self._fields(c[1:], f"cluster `{name}`")
        cluster = EcsCluster(name, name, capacities, span=self._span(meta))
        return _Cluster(cluster, tasks, services, self._ignores(many, None))

    def capacity(self, meta: Any, c: list[Any]) -> Capacity:
        name = self._text(c[0])
        single, many = self._fields(c[1:], f"capacity `{name}`")
        span = self._span(meta)
        if "launch" in single:
            launch = LAUNCH_TYPES[self._choice(single["launch"].value, LAUNCH_TYPES, "launch type")]
        else:
            launch = LaunchType.EC2
            self._error(
                MISSING_SETTING,
                f"capacity `{name}` does not say how it launches",
                span,
                hint="add `launch ec2`, `launch fargate` or `launch external`",
            )
        return Capacity(
            name,
            launch,
            instance_profile=single["instance_profile"].value
            if "instance_profile" in single
            else None,
            host_role=single["host_role"].value if "host_role" in single else None,
            metadata=single["imds"].value if "imds" in single else None,
            host=self._host_settings(single, many),
            span=span,
        )

    def _host_settings(self, single: dict[str, _Item], many: list[_Item]) -> HostSettings | None:
        agent = tuple(item.value for item in many if item.key == "agent")
        iptables = single.get("iptables")
        if not agent and iptables is None:
            return None
        spans = [i.span for i in many if i.key == "agent"] + ([iptables.span] if iptables else [])
        return HostSettings(
            agent=agent,
            iptables_blocks_imds=iptables.value if iptables else None,
            span=min(spans, key=lambda s: (s.line, s.column)),
        )

    def launch(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("launch", c[0], self._span(meta))

    def instance_profile_ref(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("instance_profile", self._ref(c[0]), self._span(meta))

    def host_role(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("host_role", self._ref(c[0]), self._span(meta))

    def imds(self, meta: Any, c: list[Any]) -> _Item:
        settings: dict[str, Any] = {}
        for key, value, span in c:
            if key in settings:
                self._error(DUPLICATE_ELEMENT, f"`imds` sets `{key}` twice", span)
            settings[key] = value
        return _Item("imds", MetadataOptions(**settings, span=self._span(meta)), self._span(meta))

    # IMDSv1 answers requests without a session token; v2 requires one
    # (EC2 User Guide, "Configure the instance metadata service options").
    def imds_v1(self, meta: Any, c: list[Any]) -> tuple[str, Any, Span]:
        return ("http_tokens", "optional", self._span(meta))

    def imds_v2(self, meta: Any, c: list[Any]) -> tuple[str, Any, Span]:
        return ("http_tokens", "required", self._span(meta))

    def imds_disabled(self, meta: Any, c: list[Any]) -> tuple[str, Any, Span]:
        return ("http_endpoint", "disabled", self._span(meta))

    def imds_tokens(self, meta: Any, c: list[Any]) -> tuple[str, Any, Span]:
        return ("http_tokens", self._choice(c[0], TOKENS, "token setting"), self._span(meta))

    def imds_hop_limit(self, meta: Any, c: list[Any]) -> tuple[str, Any, Span]:
        raw = self._text(c[0])
        if not raw.isdigit() or not 1 <= int(raw) <= 64:
            self._error(
                BAD_SETTING,
                f"hop limit `{raw}` is not a whole number from 1 to 64",
                self._tspan(c[0]),
                hint="EC2 accepts a PUT response hop limit from 1 to 64",
            )
            return ("hop_limit", None, self._span(meta))
        return ("hop_limit", int(raw), self._span(meta))

    def imds_endpoint(self, meta: Any, c: list[Any]) -> tuple[str, Any, Span]:
        return ("http_endpoint", self._choice(c[0], ON_OFF, "endpoint setting"), self._span(meta))

    def imds_ipv6(self, meta: Any, c: list[Any]) -> tuple[str, Any, Span]:
        value = self._choice(c[0], ON_OFF, "IPv6 setting")
        return ("http_protocol_ipv6", value, self._span(meta))

    def agent(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("agent", (self._text(c[0]), self._text(c[1])), self._span(meta))

    def iptables(self, meta: Any, c: list[Any]) -> _Item:
        value = IPTABLES[self._choice(c[0], IPTABLES, "iptables setting")]
        return _Item("iptables", value, self._span(meta))

    def task(self, meta: Any, c: list[Any]) -> Task:
        name = self._text(c[0])
        single, many = self._fields(c[1:], f"task `{name}`")

        def get(key: str) -> Any:
            return single[key].value if key in single else None

        launch = get("launch")
        launch_type = (
            LAUNCH_TYPES[self._choice(launch, LAUNCH_TYPES, "launch type")] if launch else None
        )
        network = get("network")
        pid, ipc = get("pid"), get("ipc")
        containers = tuple(item.value[0] for item in many if item.key == "container")
        ignores = list(self._ignores(many, name))
        for item in many:
            if item.key == "container":
                container: Container = item.value[0]
                ignores.extend(
                    replace(s, workload=s.workload or f"{name}/{container.name}")
                    for s in item.value[1]
                )
        self.pending_ignores.extend(ignores)
        return Task(
            name,
            get("family") or name,
            task_role=get("task_role"),
            execution_role=get("execution_role"),
            network_mode=self._choice(network, NETWORK_MODES, "network mode") if network else None,
            launch_type=launch_type,
            pid_mode=self._choice(pid, PID_MODES, "pid mode") if pid else None,
            ipc_mode=self._choice(ipc, IPC_MODES, "ipc mode") if ipc else None,
            containers=containers,
            capacity=get("runs_on"),
            enable_execute_command="exec_command" in single,
            needs=self._needs(many),
            definition=get("definition"),
            span=self._span(meta),
        )

    def definition(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("definition", self._ref(c[0]), self._span(meta))

    def family(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("family", self._text(c[0]), self._span(meta))

    def task_role(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("task_role", self._ref(c[0]), self._span(meta))

    def execution_role(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("execution_role", self._ref(c[0]), self._span(meta))

    def network(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("network", c[0], self._span(meta))

    def pid(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("pid", c[0], self._span(meta))

    def ipc(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("ipc", c[0], self._span(meta))

    def placed_on(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("runs_on", self._text(c[0]), self._span(meta))

    def exec_command(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("exec_command", True, self._span(meta))

    def needs(self, meta: Any, c: list[Any]) -> _Item:
        span = self._span(meta)
        resources: tuple[str, ...] = ("*",)
        if c and isinstance(c[-1], tuple):
            resources = c[-1]
            c = c[:-1]
        return _Item("needs", tuple(Need(self._text(a), resources, span=span) for a in c), span)

    def need_on(self, meta: Any, c: list[Any]) -> tuple[str, ...]:
        return self._values(c)

    def container(self, meta: Any, c: list[Any]) -> _Item:
        name = self._text(c[0])
        single, many = self._fields(c[1:], f"container `{name}`")
        container = Container(
            name,
            image=single["image"].value if "image" in single else None,
            privileged="privileged" in single,
            mounts=tuple(item.value for item in many if item.key == "mount"),
            secrets=tuple(item.value for item in many if item.key == "secret"),
            environment=tuple(item.value for item in many if item.key == "env"),
            needs=self._needs(many),
            span=self._span(meta),
        )
        return _Item("container", (container, self._ignores(many, None)), self._span(meta))

    def image(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("image", self._text(c[0]), self._span(meta))

    def privileged(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("privileged", True, self._span(meta))

    def _mount(self, key: str, meta: Any, c: list[Any]) -> _Item:
        span = self._span(meta)
        target = self._text(c[1]) if len(c) > 1 else None
        return _Item(key, HostMount(self._text(c[0]), target, span=span), span)

    def mount(self, meta: Any, c: list[Any]) -> _Item:
        return self._mount("mount", meta, c)

    def host_path(self, meta: Any, c: list[Any]) -> _Item:
        return self._mount("host_path", meta, c)

    def secret(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("secret", self._ref(c[0]), self._span(meta))

    def env(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("env", (self._text(c[0]), self._text(c[1])), self._span(meta))

    def service(self, meta: Any, c: list[Any]) -> Service:
        name = self._text(c[0])
        single, many = self._fields(c[1:], f"service `{name}`")
        span = self._span(meta)
        if "task" in single:
            task = single["task"].value
        else:
            task = Ref("", span=span)
            self._error(
                MISSING_SETTING,
                f"service `{name}` does not say which task it runs",
                span,
                hint="add `task NAME`",
            )
        launch = single["launch"].value if "launch" in single else None
        self.pending_ignores.extend(self._ignores(many, name))
        return Service(
            name,
            name,
            task,
            capacity=single["runs_on"].value if "runs_on" in single else None,
            launch_type=LAUNCH_TYPES[self._choice(launch, LAUNCH_TYPES, "launch type")]
            if launch
            else None,
            enable_execute_command="exec_command" in single,
            span=span,
        )

    def service_task(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("task", self._ref(c[0]), self._span(meta))

    # EKS ------------------------------------------------------------------------------------

    def eks_cluster(self, meta: Any, c: list[Any]) -> _Eks:
        name = self._text(c[0])
        _, many = self._fields(c[1:], f"EKS cluster `{name}`")
        return _Eks(
            EksCluster(name, name, span=self._span(meta)),
            tuple(replace(g, cluster=name) for g in c[1:] if isinstance(g, NodeGroup)),
            tuple(replace(s, cluster=name) for s in c[1:] if isinstance(s, ServiceAccount)),
            tuple(replace(p, cluster=name) for p in c[1:] if isinstance(p, Pod)),
            self._ignores(many, None),
        )

    def node_group(self, meta: Any, c: list[Any]) -> NodeGroup:
        name = self._text(c[0])
        single, many = self._fields(c[1:], f"node group `{name}`")
        kind = NodeGroupKind.MANAGED
        if "kind" in single:
            kind = NODE_KINDS[self._choice(single["kind"].value, NODE_KINDS, "node group kind")]
        return NodeGroup(
            name,
            name,
            "",
            kind,
            role=single["role"].value if "role" in single else None,
            instance_profile=single["instance_profile"].value
            if "instance_profile" in single
            else None,
            metadata=single["imds"].value if "imds" in single else None,
            host=self._host_settings(single, many),
            span=self._span(meta),
        )

    def node_kind(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("kind", c[0], self._span(meta))

    def node_role(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("role", self._ref(c[0]), self._span(meta))

    def fargate_profile(self, meta: Any, c: list[Any]) -> NodeGroup:
        name = self._text(c[0])
        single, many = self._fields(c[1:], f"Fargate profile `{name}`")
        namespaces = tuple(ns for item in many if item.key == "namespaces" for ns in item.value)
        return NodeGroup(
            name,
            name,
            "",
            NodeGroupKind.FARGATE,
            role=single["role"].value if "role" in single else None,
            namespaces=namespaces,
            span=self._span(meta),
        )

    def namespaces(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("namespaces", self._values(c), self._span(meta))

    def _namespaced(self, token: Token) -> tuple[str, str]:
        text = self._text(token)
        namespace, sep, name = text.partition("/")
        if not sep or not namespace or not name or "/" in name:
            self._error(
                BAD_SETTING,
                f"`{text}` is not `namespace/name`",
                self._tspan(token),
                hint="write the Kubernetes namespace and name, e.g. `payments/api`",
            )
            return ("default", text)
        return namespace, name

    def service_account(self, meta: Any, c: list[Any]) -> ServiceAccount:
        namespace, name = self._namespaced(c[0])
        single, _ = self._fields(c[1:], f"service account `{namespace}/{name}`")
        return ServiceAccount(
            namespace,
            name,
            irsa_role=single["irsa"].value if "irsa" in single else None,
            pod_identity_role=single["pod_identity"].value if "pod_identity" in single else None,
            span=self._span(meta),
        )

    def irsa(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("irsa", self._ref(c[0]), self._span(meta))

    def pod_identity(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("pod_identity", self._ref(c[0]), self._span(meta))

    def pod(self, meta: Any, c: list[Any]) -> Pod:
        namespace, name = self._namespaced(c[0])
        pod_id = f"{namespace}/{name}"
        single, many = self._fields(c[1:], f"pod `{pod_id}`")
        self.pending_ignores.extend(self._ignores(many, pod_id))
        kind = self._text(single["kind"].value) if "kind" in single else "Pod"
        return Pod(
            pod_id,
            namespace,
            name,
            kind=kind,
            service_account=single["service_account"].value
            if "service_account" in single
            else None,
            node_group=single["node_group"].value if "node_group" in single else None,
            host_network="host_network" in single,
            host_pid="host_pid" in single,
            privileged="privileged" in single,
            host_paths=tuple(item.value for item in many if item.key == "host_path"),
            needs=self._needs(many),
            span=self._span(meta),
        )

    def pod_service_account(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("service_account", self._text(c[0]), self._span(meta))

    def pod_node_group(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("node_group", self._text(c[0]), self._span(meta))

    def host_network(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("host_network", True, self._span(meta))

    def host_pid(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("host_pid", True, self._span(meta))

    # Lambda and ECR -------------------------------------------------------------------------

    def function(self, meta: Any, c: list[Any]) -> FunctionDecl:
        name = self._text(c[0])
        single, many = self._fields(c[1:], f"function `{name}`")
        self.pending_ignores.extend(self._ignores(many, name))
        policy = single.get("resource_policy")
        resource_policy = replace(policy.value, name=f"{name}-resource-policy") if policy else None
        function = Function(
            name,
            name,
            execution_role=single["execution_role"].value if "execution_role" in single else None,
            resource_policy=resource_policy,
            triggers=tuple(item.value for item in many if item.key == "schedule"),
            needs=self._needs(many),
            span=self._span(meta),
        )
        ref = single.get("resource_policy_ref")
        return FunctionDecl(function, ref.value if ref else None)

    def resource_policy_ref(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("resource_policy_ref", self._ref(c[0]), self._span(meta))

    def resource_policy(self, meta: Any, c: list[Any]) -> _Item:
        return _Item("resource_policy", c[0], self._span(meta))

    def schedule(self, meta: Any, c: list[Any]) -> _Item:
        # An EventBridge schedule rule invokes the function (Lambda Developer Guide,
        # "Invoking a Lambda function on a schedule").
        return _Item("schedule", f"schedule:{self._text(c[0])}", self._span(meta))

    def repository(self, meta: Any, c: list[Any]) -> RepositoryDecl:
        name = self._text(c[0])
        single, _ = self._fields(c[1:], f"repository `{name}`")
        policy = single.get("resource_policy")
        document = replace(policy.value, name=f"{name}-repository-policy") if policy else None
        ref = single.get("resource_policy_ref")
        repo = EcrRepository(name, name, policy=document, span=self._span(meta))
        return RepositoryDecl(repo, ref.value if ref else None)

    # expectations and suppressions ----------------------------------------------------------

    def expect_block(self, meta: Any, c: list[Any]) -> list[Expectation]:
        return [x for x in c if isinstance(x, Expectation)]

    def expectation(self, meta: Any, c: list[Any]) -> Expectation:
        kind, name, negate = c[0]
        can = c[1] == "can"
        if negate:
            can = not can
        resource = self._text(c[3]) if len(c) > 3 else "*"
        return Expectation(kind, name, can, self._text(c[2]), resource, span=self._span(meta))

    def subject_all(self, meta: Any, c: list[Any]) -> tuple[str, str | None, bool]:
        return (c[1], None, c[0] == "no")

    def subject_named(self, meta: Any, c: list[Any]) -> tuple[str, str | None, bool]:
        return (c[0], self._text(c[-1]), False)

    def ignore(self, meta: Any, c: list[Any]) -> _Item:
        code = self._text(c[0])
        target = self._text(c[1]) if len(c) > 2 else None
        span = self._span(meta)
        check_rule_code(code, self._tspan(c[0]), self.diagnostics)
        return _Item("ignore", _Ignore(code, self._text(c[-1]), target, span), span)


_RULE_CODE = re.compile(r"PE[1-9]\d\d")


def check_rule_code(code: str, span: Span, out: list[Diagnostic]) -> None:
    if not _RULE_CODE.fullmatch(code):
        out.append(
            Diagnostic(
                BAD_SETTING,
                Severity.ERROR,
                f"`{code}` is not a rule code",
                span,
                help="suppressions name an audit rule, e.g. `PE201`",
            )
        )


# -- comment suppressions -------------------------------------------------------------------

_COMMENT_IGNORE = re.compile(
    r"#\s*policyeval:\s*ignore\s+(?P<code>\S+)(?:\s+for\s+(?P<target>\S+))?"
    r"(?:\s+reason\s+(?P<reason>\"(?:[^\"\\]|\\.)*\"))?\s*$"
)


def comment_suppressions(document: PelDocument, diagnostics: list[Diagnostic]) -> None:
    """`# policyeval: ignore PE201 [for NAME] reason "..."` comments become Suppressions.

    Without `for`, the comment applies to the workload whose block contains it, or whose
    block starts on the next line; elsewhere it applies to every workload.
    """
    blocks: list[tuple[Span, str]] = []
    for task in document.tasks:
        if task.span:
            blocks.append((task.span, task.id))
        for container in task.containers:
            if container.span:
                blocks.append((container.span, f"{task.id}/{container.name}"))
    blocks += [(s.span, s.id) for s in document.services if s.span]
    blocks += [(p.span, p.id) for p in document.pods if p.span]
    blocks += [(f.function.span, f.function.id) for f in document.functions if f.function.span]
    for token in document.comments:
        text = str(token)
        if not re.match(r"#\s*policyeval:", text):
            continue
        span = Span(
            document.path, token.line or 1, token.column or 1, token.end_line, token.end_column
        )
        match = _COMMENT_IGNORE.match(text)
        if match is None or match.group("reason") is None:
            diagnostics.append(
                Diagnostic(
                    BAD_SETTING,
                    Severity.ERROR,
                    "malformed suppression comment",
                    span,
                    help='write `# policyeval: ignore PE201 reason "why this is accepted"`',
                )
            )
            continue
        code = match.group("code")
        check_rule_code(code, span, diagnostics)
        quoted = match.group("reason")
        try:
            reason = str(json.loads(quoted, strict=False))
        except ValueError:  # as for a string in the text: PE003, and the text as written
            column = span.column + match.start("reason")
            diagnostics.append(
                Diagnostic(
                    BAD_STRING,
                    Severity.ERROR,
                    "invalid escape sequence in string",
                    Span(span.path, span.line, column, span.line, column + len(quoted)),
                    help='strings use JSON escapes: \\" \\\\ \\n \\t \\uXXXX',
                )
            )
            reason = quoted[1:-1]
        target = match.group("target")
        if target is None:
            line = span.line
            inside = [
                (b, w)
                for b, w in blocks
                if b.line <= line <= (b.end_line or b.line) or b.line == line + 1
            ]
            if inside:
                # the innermost block: the one that starts last
                target = max(inside, key=lambda bw: (bw[0].line, bw[0].column))[1]
        document.suppressions.append(Suppression(code, reason, target, span))


# -- syntax errors --------------------------------------------------------------------------

_TERMINAL_WORDS = {
    "STRING": "a string",
    "WORD": "a name or value",
    "STAR": "`*`",
    "_SEP": "`;`",
    "$END": "end of file",
}


def _terminal_words(name: str) -> str:
    from lark.lexer import PatternStr

    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    parser, _ = pel_parser()
    for terminal in parser.terminals:
        if terminal.name == name and isinstance(terminal.pattern, PatternStr):
            return f"`{terminal.pattern.value}`"
    return name.lower()


def _keywords(names: set[str]) -> list[str]:
    from lark.lexer import PatternStr

    parser, _ = pel_parser()
    words = []
    for terminal in parser.terminals:
        pattern = terminal.pattern
        if (
            terminal.name in names
            and isinstance(pattern, PatternStr)
            and pattern.value[:1].isalpha()
        ):
            words.append(pattern.value)
    return words


def syntax_diagnostic(error: UnexpectedInput, path: str) -> Diagnostic:
    """One human sentence for a Lark error: where, what was expected, what was found."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    line, column = max(error.line, 1), max(error.column, 1)
    expected: set[str] = set()
    found: str
    found_text = ""
    end_column: int | None = None
    if isinstance(error, UnexpectedToken):
        expected = set(error.accepts or error.expected)
        token = error.token
        if token.type == "$END":
            found = "end of file"
            # point just after the last character, which is where something is missing
        else:
            found_text = str(token)
            found = f"`{_clip(found_text)}`"
            end_column = (token.end_column or column + 1) if token.end_line == token.line else None
    elif isinstance(error, UnexpectedCharacters):
        expected = set(error.allowed or ())
        found = f"`{_clip(error.char)}`" if error.char.isprintable() else "a control character"
        if error.char == '"':
            found = "an unterminated string"
    else:
        found = "something unexpected"
    words = sorted({_terminal_words(n) for n in expected if n != "COMMENT"})
    if not words:
        message = f"unexpected {found}"
    elif len(words) <= 6:
        message = f"expected {_join(words)}, found {found}"
    else:
        message = f"unexpected {found}"
    help_text: str | None = None
    if found_text:
        close = difflib.get_close_matches(found_text, _keywords(expected), n=1, cutoff=0.7)
        if close:
            help_text = f"did you mean `{close[0]}`?"
    if help_text is None and len(words) > 6:
        help_text = f"expected one of {_join(words[:12])}" + (", …" if len(words) > 12 else "")
    span = Span(path, line, column, line if end_column else None, end_column)
    return Diagnostic(SYNTAX_ERROR, Severity.ERROR, message, span, help=help_text)


def _join(words: list[str]) -> str:
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _clip(text: str) -> str:
    text = text.replace("`", "'")
    return text if len(text) <= 40 else text[:37] + "…"


def parse_tree(text: str, path: str) -> tuple[Tree[Token] | None, list[Token], list[Diagnostic]]:
    """Lark tree, comment tokens and syntax Diagnostics (every error up to a cap)."""
    if len(text) > MAX_PEL_BYTES:
        message = f"file is larger than {MAX_PEL_BYTES // (1024 * 1024)} MiB"
        diagnostic = Diagnostic(TOO_LARGE, Severity.ERROR, message, Span(path, 1, 1))
        return None, [], [diagnostic]
    parser, sink = pel_parser()
    return _parse_with(parser, sink, text, path)


_TOP_LEVEL = re.compile(
    r"^(?:account|policy|import|role|instance-profile|organization|cluster|eks-cluster"
    r"|function|repository|expect|ignore)\b",
    re.MULTILINE,
)


def _parse_with(
    parser: Any, sink: Any, text: str, path: str
) -> tuple[Tree[Token] | None, list[Token], list[Diagnostic]]:
    """Parse; after a syntax error, resume at the next top-level item (a keyword in column 1).

    Resuming there rather than token by token keeps later reports real: each one is about an
    item that is broken on its own, not a consequence of the first error.
    """
    from lark.exceptions import UnexpectedInput

    errors: list[Diagnostic] = []
    sink.tokens = []
    tree: Tree[Token] | None = None
    remaining = text
    while True:
        try:
            tree = parser.parse(remaining)
            break
        except UnexpectedInput as error:
            diagnostic = syntax_diagnostic(error, path)
            errors.append(diagnostic)
            if len(errors) >= MAX_SYNTAX_ERRORS:
                break
            # blank out everything up to the next top-level item after the error's line,
            # keeping line and column numbers of what follows
            offset = _line_offset(remaining, max(error.line, 1) + 1)
            following = _TOP_LEVEL.search(remaining, offset) if offset is not None else None
            if following is None:
                break
            head = remaining[: following.start()]
            remaining = re.sub(r"[^\n]", " ", head) + remaining[following.start() :]
    comments = sorted(
        {(t.line, t.column): t for t in sink.tokens}.values(), key=lambda t: (t.line, t.column)
    )
    sink.tokens = []
    if errors:
        return None, comments, errors
    return tree, comments, errors


def _line_offset(text: str, line: int) -> int | None:
    """Index of the first character of 1-based `line`, or None past the end."""
    index = 0
    for _ in range(line - 1):
        found = text.find("\n", index)
        if found < 0:
            return None
        index = found + 1
    return index


def parse_pel(text: str, path: str) -> tuple[PelDocument, list[Diagnostic]]:
    """Parse one `.pel` text into a document of model nodes plus Diagnostics.

    Total: any text gives a document (empty when the syntax is wrong) and Diagnostics,
    never an exception. Names and imports are not resolved here; see `policyeval.pel`.
    Text in the language is parsed by `FastParser` (no parse tree); anything else goes
    through Lark, whose errors and recovery give the syntax diagnostics.
    """
    return _parse_document(text, path, fast=True)


def _parse_document(
    text: str, path: str, *, fast: bool, driver: FastParser | None = None
) -> tuple[PelDocument, list[Diagnostic]]:
    """`parse_pel`; `fast=False` takes the tree path for every text (tests compare the two),
    and `driver` replaces the process's `_fast_parser()` (tests compare its sources)."""
    document = PelDocument(path)
    if len(text) > MAX_PEL_BYTES:
        return document, parse_tree(text, path)[2]
    builder = _Builder(path)
    parsed = _parse_fast(text, path, builder, driver) if fast else None
    diagnostics: list[Diagnostic] = []
    if parsed is not None:
        items, comments = parsed
        document.comments = _ordered_comments(comments)
    else:
        tree, lark_comments, diagnostics = parse_tree(text, path)
        document.comments = list(lark_comments)
        if tree is None:
            return document, diagnostics
        builder = _Builder(path)
        items = _replay(tree, builder, path)
    diagnostics.extend(builder.diagnostics)
    _collect(document, items, diagnostics)
    document.suppressions.extend(builder.pending_ignores)
    comment_suppressions(document, diagnostics)
    return document, diagnostics


_COMMENT_TYPES = frozenset({"COMMENT"})


@functools.cache
def _fast_parser() -> FastParser | None:
    """The driver over the model parser's tables, or None if this Lark build is not one it
    reproduces (then every text goes through Lark).

    The tables come from the private cache (`grammar.load_driver_tables`, JSON keyed on the
    grammar, Lark's version and the format) when they are there: then Lark is not even
    imported. Otherwise they are read from the Lark parser and stored for the next start.
    """
    stored = load_driver_tables("model", _COMMENT_TYPES)
    if stored is not None:
        try:
            fast = FastParser.from_tables(stored)
            if fast.comment_types == _COMMENT_TYPES:
                _Builder("").rule_methods(fast.rule_names)
                return fast
        except (ValueError, KeyError):
            pass  # not what we wrote: rebuilt and rewritten below
    parser, _ = pel_parser()
    try:
        fast = FastParser(parser, _COMMENT_TYPES)
        _Builder("").rule_methods(fast.rule_names)
    except (Unsupported, KeyError):
        return None
    with contextlib.suppress(Unsupported):  # a Lark build this table format cannot hold
        store_driver_tables("model", _COMMENT_TYPES, fast.tables)
    return fast


def _parse_fast(
    text: str, path: str, builder: _Builder, driver: FastParser | None = None
) -> tuple[list[Any], list[PelToken]] | None:
    """Items and comments of text in the language, or None: then Lark must parse it.

    The builder's methods run during the parse; when the text turns out not to be in the
    language (or a method fails on it) what they built is dropped and Lark parses the text
    again, so diagnostics and exceptions are the ones the tree path gives.
    """
    fast = driver if driver is not None else _fast_parser()
    if fast is None:
        return None
    try:
        items, comments = fast.parse(text, path, builder.rule_methods(fast.rule_names))
    except Rejected:
        return None
    except Exception:  # the tree path raises it again where it belongs
        return None
    return items, comments


def _ordered_comments(tokens: list[PelToken]) -> list[Token | PelToken]:
    """One comment per position, in text order (as `_parse_with` gives them)."""
    return sorted(
        {(t.line, t.column): t for t in tokens}.values(), key=lambda t: (t.line, t.column)
    )


def _replay(tree: Tree[Token], builder: _Builder, path: str) -> Any:
    """Call the builder's methods over a Lark tree, children first, without recursion."""
    from lark import Tree

    postfix: list[Any] = []
    queue: list[Any] = [tree]
    while queue:
        node = queue.pop()
        postfix.append(node)
        if isinstance(node, Tree):
            queue.extend(node.children)
    values: list[Any] = []
    for node in reversed(postfix):
        if not isinstance(node, Tree):
            values.append(node)
            continue
        size = len(node.children)
        children = values[len(values) - size :]
        del values[len(values) - size :]
        meta = node.meta
        span = None
        if not meta.empty:
            span = Span(path, meta.line, meta.column, meta.end_line, meta.end_column)
        method: Action = getattr(builder, str(node.data))
        values.append(method(span, children))
    return values[-1]


def _collect(document: PelDocument, items: list[Any], diagnostics: list[Diagnostic]) -> None:
    for item in items:
        if isinstance(item, _Item) and item.key == "account":
            if document.account is not None:
                diagnostics.append(
                    Diagnostic(
                        DUPLICATE_ELEMENT, Severity.ERROR, "`account` is given twice", item.span
                    )
                )
            else:
                document.account = item.value
        elif isinstance(item, _Item) and item.key == "ignore":
            raw: _Ignore = item.value
            document.suppressions.append(Suppression(raw.code, raw.reason, raw.target, raw.span))
        elif isinstance(item, Policy):
            document.policies.append(item)
        elif isinstance(item, PolicyImport):
            document.policy_imports.append(item)
        elif isinstance(item, FileImport):
            document.imports.append(item)
        elif isinstance(item, RoleDecl):
            document.roles.append(item)
        elif isinstance(item, InstanceProfile):
            document.instance_profiles.append(item)
        elif isinstance(item, _Cluster):
            document.ecs_clusters.append(item.cluster)
            document.tasks.extend(item.tasks)
            document.services.extend(item.services)
            document.suppressions.extend(item.ignores)
        elif isinstance(item, _Eks):
            document.eks_clusters.append(item.cluster)
            document.node_groups.extend(item.node_groups)
            document.service_accounts.extend(item.service_accounts)
            document.pods.extend(item.pods)
            document.suppressions.extend(item.ignores)
        elif isinstance(item, FunctionDecl):
            document.functions.append(item)
        elif isinstance(item, RepositoryDecl):
            document.repositories.append(item)
        elif isinstance(item, list):
            for entry in item:
                if isinstance(entry, OrgPolicyAttachment):
                    document.org_policies.append(entry)
                elif isinstance(entry, Expectation):
                    document.expectations.append(entry)

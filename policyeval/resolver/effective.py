"""Effective permissions per workload: the union over the credential sources it reaches.

Each source role is evaluated with its own identity policies (inline and managed),
permissions boundary and the organisation's SCPs / RCPs, by the evaluator — this module
only enumerates candidates and asks. Candidates come from the Allow statements of the
role's identity policies: each action pattern is expanded through the action catalog and
paired with the statement's resources, so Denies, boundaries and SCPs can only remove
them (IAM User Guide, "Policy evaluation logic"). Context is left open
(`context_complete=False`), so a grant that hangs on a condition comes back CONDITIONAL
with the keys that decide it.

Approximation: a candidate's resource is the statement's pattern itself (`arn:…:bucket/*`),
asked as a literal resource. A Deny on a narrower resource (`arn:…:bucket/secret/*`) does
not match it, so such a grant stays listed although part of it is denied.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any, Literal

from policyeval import catalog
from policyeval.catalog import AccessLevel
from policyeval.errors import Diagnostic, PolicyevalError, Severity
from policyeval.model.policy import Effect, Statement
from policyeval.model.topology import Role
from policyeval.model.workspace import Workspace
from policyeval.resolver.compiling import PolicyCompiler
from policyeval.resolver.credentials import (
    CredentialSource,
    Platform,
    SourceKind,
    Workload,
    WorkloadKind,
    resolve_credentials,
)
from policyeval.resolver.policy_sets import policy_set_for

if TYPE_CHECKING:
    from policyeval.compiler.compiled import CompiledPolicySet, PolicySet
    from policyeval.evaluator.decision import Outcome

#: Version of the JSON shape of `EffectiveReport.to_dict()`; bump when it changes.
SCHEMA_VERSION = "1"

_LEVEL_ORDER = {
    AccessLevel.PERMISSIONS_MANAGEMENT: 0,
    AccessLevel.WRITE: 1,
    AccessLevel.TAGGING: 2,
    AccessLevel.READ: 3,
    AccessLevel.LIST: 4,
    AccessLevel.UNKNOWN: 5,
}


@dataclass(frozen=True, slots=True)
class Grant:
    """One allowed (action, resource) of a workload, attributed to the source it comes from."""

    action: str
    resource: str
    source: SourceKind
    role: str | None
    service: str
    access_level: AccessLevel
    conditional: bool = False
    keys: tuple[str, ...] = ()

    def sort_key(self) -> tuple[str, int, str, str, str, str]:
        # SourceKind is a StrEnum: compare the member itself (reading `.value` is slow).
        return (
            self.service,
            _LEVEL_ORDER[self.access_level],
            self.action.lower(),
            self.resource,
            self.source,
            self.role or "",
        )


@dataclass(frozen=True, slots=True)
class UnknownAction:
    """An action pattern of an Allow statement that the catalog cannot expand.

    `outcome` is the evaluator's answer for the pattern asked as a literal action (so a
    Deny or an SCP still shows): "allowed", "conditional" or "denied".
    """

    action: str
    source: SourceKind
    role: str | None
    reason: str
    outcome: Literal["allowed", "conditional", "denied"]


@dataclass(frozen=True, slots=True)
class WorkloadPermissions:
    id: str
    kind: WorkloadKind
    platform: Platform
    credentials: tuple[CredentialSource, ...]
    allowed: tuple[Grant, ...]
    unknown_actions: tuple[UnknownAction, ...] = ()
    notes: tuple[str, ...] = ()
    workload: Workload | None = field(default=None, compare=False, repr=False)

    def by_service(self) -> dict[str, dict[AccessLevel, list[Grant]]]:
        """Grants grouped by service, then access level, in report order."""
        grouped: dict[str, dict[AccessLevel, list[Grant]]] = {}
        for grant in self.allowed:
            grouped.setdefault(grant.service, {}).setdefault(grant.access_level, []).append(grant)
        return grouped


@dataclass(frozen=True, slots=True)
class EffectiveReport:
    workloads: tuple[WorkloadPermissions, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    schema_version: str = SCHEMA_VERSION

    def workload(self, workload_id: str) -> WorkloadPermissions | None:
        return next((w for w in self.workloads if w.id == workload_id), None)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape (see `schema_version`)."""
        return {
            "schema_version": self.schema_version,
            "workloads": [_workload_dict(w) for w in self.workloads],
            "diagnostics": [
                {
                    "code": d.code,
                    "severity": d.severity.value,
                    "message": d.message,
                    "span": str(d.span) if d.span else None,
                }
                for d in self.diagnostics
            ],
        }


def _workload_dict(w: WorkloadPermissions) -> dict[str, Any]:
    return {
        "id": w.id,
        "kind": w.kind.value,
        "platform": w.platform.value,
        "notes": list(w.notes),
        "credentials": [
            {
                "source": c.source.value,
                "role": c.role,
                "reachable": c.reachable,
                "reason": c.reason,
                "sdk_default": c.sdk_default,
                "via": c.via,
            }
            for c in w.credentials
        ],
        "allowed": [
            {
                "action": g.action,
                "resource": g.resource,
                "source": g.source.value,
                "role": g.role,
                "service": g.service,
                "access_level": g.access_level.value,
                "conditional": g.conditional,
                "keys": list(g.keys),
            }
            for g in w.allowed
        ],
        "unknown_actions": [
            {
                "action": u.action,
                "source": u.source.value,
                "role": u.role,
                "reason": u.reason,
                "outcome": u.outcome,
            }
            for u in w.unknown_actions
        ],
    }


# -- per role ------------------------------------------------------------------------------


#: One grant of a role, as a plain tuple so that natural tuple order is report order:
#: (service, access-level rank, lower-case action, resource, action, access level,
#: conditional, keys).
_RoleGrant = tuple[str, int, str, str, str, AccessLevel, bool, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class _Columns:
    """A role's grants in report order, one tuple per field (a column store): the Grant
    objects of each source are built from it field by field (`_grants_of`), with no tuple
    per grant. `ranks` and `keys_lower` are the access-level rank and lower-case action of
    the sort key, read only when a workload merges several sources."""

    actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    levels: tuple[AccessLevel, ...] = ()
    conditional: tuple[bool, ...] = ()
    keys: tuple[tuple[str, ...], ...] = ()
    ranks: tuple[int, ...] = ()
    keys_lower: tuple[str, ...] = ()

    @classmethod
    def of(cls, grants: list[_RoleGrant]) -> _Columns:
        """The columns of grants given as `_RoleGrant` tuples (already in report order)."""
        if not grants:
            return cls()
        services, ranks, lower, resources, actions, levels, conditional, keys = zip(
            *grants, strict=True
        )
        return cls(actions, resources, services, levels, conditional, keys, ranks, lower)


#: The slot descriptors' setters of `Grant`, in field order (a test checks the order).
_GRANT_SETTERS = tuple(
    Grant.__dict__[name].__set__
    for name in (
        "action",
        "resource",
        "source",
        "role",
        "service",
        "access_level",
        "conditional",
        "keys",
    )
)


def _grants_of(c: _Columns, source: SourceKind, role: str | None) -> tuple[Grant, ...]:
    """The Grant objects of a role's columns attributed to one source: the same objects as
    `Grant(...)` with every field given, built column by column through the slot
    descriptors with only C-level calls. The frozen dataclass `__init__` sets each field
    with `object.__setattr__` by name: most of the cost of 22,000 grants for `*`."""
    count = len(c.actions)
    grants: tuple[Grant, ...] = tuple(map(object.__new__, repeat(Grant, count)))
    columns: tuple[Iterable[Any], ...] = (
        c.actions,
        c.resources,
        repeat(source, count),
        repeat(role, count),
        c.services,
        c.levels,
        c.conditional,
        c.keys,
    )
    for setter, column in zip(_GRANT_SETTERS, columns, strict=True):
        deque(map(setter, grants, column), maxlen=0)
    return grants


@dataclass(frozen=True, slots=True)
class _RoleResult:
    grants: _Columns
    unknown: tuple[tuple[str, str, Literal["allowed", "conditional", "denied"]], ...]
    notes: tuple[str, ...]


def role_arn(ws: Workspace, role: Role) -> str:
    """The role's ARN; built from the account (or a placeholder) when the input gave none."""
    if role.arn:
        return role.arn
    return f"arn:aws:iam::{ws.account or '000000000000'}:role/{role.name}"


def _context(ws: Workspace, role: Role, arn: str) -> dict[str, tuple[str, ...]]:
    """What is known about every request of a role session (IAM User Guide, global
    condition keys `aws:PrincipalArn` — the role's ARN for a role session —
    `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:PrincipalTag/*` from the role's tags)."""
    context: dict[str, tuple[str, ...]] = {
        "aws:PrincipalArn": (arn,),
        "aws:PrincipalType": ("AssumedRole",),
    }
    account = arn.split(":")[4] if arn.count(":") >= 5 else ws.account
    if account:
        context["aws:PrincipalAccount"] = (account,)
    for key, value in role.tags:
        context[f"aws:PrincipalTag/{key}"] = (value,)
    return context


@functools.lru_cache(maxsize=4096)
def _pattern_entries(pattern: str) -> tuple[tuple[str, catalog.ActionInfo], ...]:
    """(lower-case action, catalog entry) for each action an action pattern matches."""
    return tuple((info.action.lower(), info) for info in catalog.expand(pattern).actions)


@dataclass(frozen=True, slots=True)
class _ServiceTable:
    """The actions of one service in report order (access-level rank, lower-case name)."""

    keys: tuple[str, ...]  # lower-case `service:action`
    actions: tuple[str, ...]  # the catalog's spelling
    levels: tuple[AccessLevel, ...]
    ranks: tuple[int, ...]
    position: dict[str, int]  # lower-case action → its index in the tuples above


@functools.cache
def _service_table(service: str) -> _ServiceTable:
    """Static catalog data, built once per process for each service a role can reach."""
    first: dict[str, catalog.ActionInfo] = {}
    for info in catalog.service_actions(service):
        first.setdefault(info.action.lower(), info)  # the first spelling wins, as in expand()
    rows = sorted(
        (_LEVEL_ORDER[info.access_level], key, info.action, info.access_level)
        for key, info in first.items()
    )
    return _ServiceTable(
        keys=tuple(row[1] for row in rows),
        actions=tuple(row[2] for row in rows),
        levels=tuple(row[3] for row in rows),
        ranks=tuple(row[0] for row in rows),
        position={row[1]: index for index, row in enumerate(rows)},
    )


@functools.cache
def _all_services() -> tuple[str, ...]:
    """Every service of the catalog, in report order."""
    return tuple(sorted(catalog.service_prefixes()))


#: How an Action / NotAction list matches one service: None for every action of it, or the
#: lower-case actions it matches.
_ServiceMatch = frozenset[str] | None


@functools.lru_cache(maxsize=4096)
def _service_matches(patterns: tuple[str, ...]) -> tuple[tuple[str, _ServiceMatch], ...]:
    """The catalog actions an Action / NotAction list matches, by service (services it does
    not match are left out). A pure function of the patterns and the pinned catalog, so it
    is shared by every statement, role and run that repeats the same list."""
    by_service: dict[str, set[str]] = {}
    for pattern in patterns:
        for key, info in _pattern_entries(pattern):
            by_service.setdefault(info.service, set()).add(key)
    result: list[tuple[str, _ServiceMatch]] = []
    for service in sorted(by_service):
        keys = by_service[service]
        whole = len(keys) == len(_service_table(service).keys)
        result.append((service, None if whole else frozenset(keys)))
    return tuple(result)


def _statements(policies: PolicySet) -> list[Statement]:
    """Every statement of every gate, identity policies first."""
    statements: list[Statement] = []
    for policy in policies.identity:
        statements.extend(policy.statements)
    for maybe in (policies.boundary, policies.session, policies.resource):
        if maybe is not None:
            statements.extend(maybe.statements)
    for levels in (policies.scps, policies.rcps):
        for level in levels:
            for policy in level:
                statements.extend(policy.statements)
    return statements


def _every_action(patterns: tuple[str, ...]) -> bool:
    return any(p.strip() == "*" for p in patterns)


def _pattern_account(resource: str, principal_account: str | None) -> str | None:
    """The account to assume for a resource pattern: the role's own when the pattern leaves
    the account open (`arn:aws:ecs:*:*:task/*`, `*`), so that a wildcard is not mistaken
    for another account; None (the ARN's own account) otherwise."""
    parts = resource.split(":", 5)
    if len(parts) < 6:
        return principal_account
    owner = parts[4]
    if not owner or "*" in owner or "?" in owner:
        return principal_account
    return None


@functools.lru_cache(maxsize=1024)
def _key_spelling(key: str) -> str:
    """AWS's spelling of a condition key the evaluator reports in lower case."""
    known = catalog.global_condition_key(key)
    if known is not None and "${" not in known:
        return known
    service = key.split(":", 1)[0]
    for spelled in catalog.condition_keys(service):
        if spelled.lower() == key.lower():
            return spelled
    return key


#: One ask of the evaluator: (action, resource) → outcome and the deciding keys.
_Ask = Callable[[str, str], "tuple[Outcome, tuple[str, ...]]"]

#: What a role is granted on each resource asked for one class of actions, in report
#: order: (resource, conditional, condition keys).
_Granted = tuple[tuple[str, bool, tuple[str, ...]], ...]


def _resource_order(resource: str) -> tuple[bool, str]:
    """`*` first: an unconditional grant on `*` covers the narrower resources."""
    return (resource != "*", resource)


class _Resolver:
    """One effective-permissions run: compiles each distinct policy set once and evaluates
    each role once, however many workloads reach it."""

    def __init__(self, ws: Workspace, *, exact: bool = False) -> None:
        self.ws = ws
        self.exact = exact
        self._compiled: dict[PolicySet, CompiledPolicySet] = {}
        self._compiler = PolicyCompiler()
        self._roles: dict[str, _RoleResult] = {}
        self._grants: dict[tuple[str, SourceKind, str | None], tuple[Grant, ...]] = {}
        #: `Grant.sort_key()` of each grant in `_grants`, built from the role's columns.
        self._keys: dict[tuple[str, SourceKind, str | None], tuple[tuple[Any, ...], ...]] = {}

    def compiled(self, policies: PolicySet) -> CompiledPolicySet:
        found = self._compiled.get(policies)
        if found is None:
            found = self._compiler.policy_set(policies)
            self._compiled[policies] = found
        return found

    def role(self, role: Role) -> _RoleResult:
        arn = role_arn(self.ws, role)
        cached = self._roles.get(arn)
        if cached is None:
            cached = self._evaluate_role(role, arn)
            self._roles[arn] = cached
        return cached

    def grants(self, role: Role, source: SourceKind, label: str | None) -> tuple[Grant, ...]:
        """The role's grants attributed to one source, in report order (built once)."""
        key = (role_arn(self.ws, role), source, label)
        found = self._grants.get(key)
        if found is None:
            found = _grants_of(self.role(role).grants, source, label)
            self._grants[key] = found
        return found

    def sort_keys(
        self, role: Role, source: SourceKind, label: str | None
    ) -> tuple[tuple[Any, ...], ...]:
        """`Grant.sort_key()` of each of `grants(role, source, label)`, in the same order:
        (service, level rank, lower-case action, resource, source, role)."""
        key = (role_arn(self.ws, role), source, label)
        found = self._keys.get(key)
        if found is None:
            c = self.role(role).grants
            found = tuple(
                zip(
                    c.services,
                    c.ranks,
                    c.keys_lower,
                    c.resources,
                    repeat(source),
                    repeat(label or ""),
                )
            )
            self._keys[key] = found
        return found

    def _evaluate_role(self, role: Role, arn: str) -> _RoleResult:
        from policyeval.evaluator.decision import Outcome
        from policyeval.evaluator.engine import evaluate
        from policyeval.evaluator.request import Request

        policies, notes = policy_set_for(self.ws, role)
        compiled = self.compiled(policies)
        context = _context(self.ws, role, arn)
        account = context.get("aws:PrincipalAccount", (None,))[0]

        def ask(action: str, resource: str) -> tuple[Outcome, tuple[str, ...]]:
            decision = evaluate(
                compiled,
                Request(
                    principal=arn,
                    action=action,
                    resource=resource,
                    context=context,
                    resource_account=_pattern_account(resource, account),
                    context_complete=False,
                ),
            )
            return decision.outcome, tuple(_key_spelling(k) for k in decision.deciding_keys)

        unknown: dict[str, set[str]] = {}
        unknown_reason: dict[str, str] = {}
        for policy in policies.identity:
            for statement in policy.statements:
                if statement.effect is not Effect.ALLOW:
                    continue
                # NotResource grants everything but the listed resources: ask about `*`.
                resources = statement.resource if statement.resource is not None else ("*",)
                patterns = statement.action if statement.action is not None else ("*",)
                for pattern in patterns:
                    expansion = catalog.expand(pattern)
                    if expansion.unknown is not None:
                        unknown.setdefault(pattern, set()).update(resources)
                        unknown_reason[pattern] = expansion.unknown

        grants = _one_by_one(policies, ask) if self.exact else _by_class(policies, ask)
        unknown_out: list[tuple[str, str, Literal["allowed", "conditional", "denied"]]] = []
        for pattern, asked in unknown.items():
            verdict: Literal["allowed", "conditional", "denied"] = "denied"
            for resource in sorted(asked):
                outcome, _ = ask(pattern, resource)
                if outcome is Outcome.ALLOWED:
                    verdict = "allowed"
                    break
                if outcome is Outcome.CONDITIONAL:
                    verdict = "conditional"
            unknown_out.append((pattern, unknown_reason[pattern], verdict))
        return _RoleResult(grants, tuple(unknown_out), notes)


def _asked(ask: _Ask, action: str, wanted: Iterable[str]) -> _Granted:
    """What the evaluator grants for `action` on each wanted resource, in report order."""
    from policyeval.evaluator.decision import Outcome

    granted: list[tuple[str, bool, tuple[str, ...]]] = []
    for resource in sorted(wanted, key=_resource_order):
        outcome, keys = ask(action, resource)
        if outcome is Outcome.ALLOWED:
            granted.append((resource, False, ()))
            if resource == "*":
                break  # an unconditional grant on `*` covers the narrower resources
        elif outcome is Outcome.CONDITIONAL:
            granted.append((resource, True, tuple(sorted(keys))))
    granted.sort()  # by resource (a resource listed twice gives two equal entries)
    return tuple(granted)


def _candidate_resources(lists: list[tuple[str, ...]]) -> tuple[str, ...]:
    """The resources an action is asked on, from the Resource lists of the Allow statements
    naming it: exactly what `_one_by_one`'s merge gives, whatever the statements' order.
    One list (or several equal ones) is kept as written, repeats included (each repeat is
    reported as written); different lists are merged without repeats."""
    if not lists:
        return ()
    first = lists[0]
    if all(other == first for other in lists):
        return first
    return tuple(dict.fromkeys(resource for each in lists for resource in each))


def _by_class(policies: PolicySet, ask: _Ask) -> _Columns:
    """The role's grants, asking the evaluator once per class of actions and resource.

    Candidates come from the Allow statements of the identity policies: each action an
    Action pattern expands to (through the catalog) is asked on the statement's resources;
    an Allow with `*` or NotAction makes every catalog action a candidate.

    INVARIANT: the evaluator's decision for (action, resource) depends on the action only
    through which statements' Action / NotAction lists match it and, for RCPs only (their
    scope is a list of services), through its service; nothing in Resource, Condition or
    Principal looks at the action name. So the actions matched by exactly the same
    statements (their "signature") share a decision, and so do their candidate resources:
    ask once per (signature, resource) — per (service, signature, resource) when the role
    has RCPs — and emit each class's answer for all its actions. Statements whose lists
    hold `*` match every action and are left out of signatures. `_one_by_one` asks per
    action (tests compare the two).

    Grants come out in report order without sorting: services in order, each service's
    actions in (access-level rank, lower-case name) order (`_service_table`), resources in
    order within an action.
    """
    statements = _statements(policies)
    identity_count = sum(len(policy.statements) for policy in policies.identity)
    # The Resource lists that make every catalog action a candidate, and those of the other
    # Allow statements by statement number.
    uniform: list[tuple[str, ...]] = []
    allow_resources: dict[int, tuple[str, ...]] = {}
    touched: dict[str, list[tuple[int, _ServiceMatch]]] = {}
    for number, statement in enumerate(statements):
        if number < identity_count and statement.effect is Effect.ALLOW:
            # NotResource grants everything but the listed resources: ask about `*`.
            resources = statement.resource if statement.resource is not None else ("*",)
            if statement.action is None or _every_action(statement.action):
                uniform.append(resources)
            else:
                allow_resources[number] = resources
        patterns = statement.action if statement.action is not None else statement.not_action
        if not patterns or _every_action(patterns):
            continue  # matches every action (or none, for NotAction): the same for all
        for service, match in _service_matches(tuple(patterns)):
            touched.setdefault(service, []).append((number, match))

    per_service = bool(policies.rcps)
    memo: dict[tuple[str, tuple[int, ...]], _Granted] = {}

    def granted(service: str, signature: tuple[int, ...], action: str) -> _Granted:
        klass = (service if per_service else "", signature)
        found = memo.get(klass)
        if found is None:
            lists = [*uniform]
            for number in signature:
                more = allow_resources.get(number)
                if more is not None:
                    lists.append(more)
            wanted = _candidate_resources(lists)
            found = _asked(ask, action, wanted) if wanted else ()
            memo[klass] = found
        return found

    actions: list[str] = []
    resources_out: list[str] = []
    services: list[str] = []
    levels: list[AccessLevel] = []
    conditional: list[bool] = []
    keys_out: list[tuple[str, ...]] = []
    ranks: list[int] = []
    lower: list[str] = []

    def one(table: _ServiceTable, index: int, service: str, answer: _Granted) -> None:
        for resource, cond, keys in answer:
            actions.append(table.actions[index])
            resources_out.append(resource)
            services.append(service)
            levels.append(table.levels[index])
            conditional.append(cond)
            keys_out.append(keys)
            ranks.append(table.ranks[index])
            lower.append(table.keys[index])

    # Without an Allow of every action, only the services the Allow statements name hold
    # candidates: a narrow role costs what its statements name, not the whole catalog.
    for service in _all_services() if uniform else sorted(touched):
        table = _service_table(service)
        if not table.keys:
            continue
        entries = touched.get(service, ())
        whole = tuple(number for number, match in entries if match is None)
        if len(whole) == len(entries):
            # Every action of the service has the same signature.
            answer = granted(service, whole, table.actions[0])
            if len(answer) == 1:
                count = len(table.keys)
                resource, cond, keys = answer[0]
                actions.extend(table.actions)
                resources_out.extend(repeat(resource, count))
                services.extend(repeat(service, count))
                levels.extend(table.levels)
                conditional.extend(repeat(cond, count))
                keys_out.extend(repeat(keys, count))
                ranks.extend(table.ranks)
                lower.extend(table.keys)
            elif answer:
                for index in range(len(table.keys)):
                    one(table, index, service, answer)
            continue
        named = [match for number, match in entries if number in allow_resources]
        positions: Iterable[int]
        if uniform or any(match is None for match in named):
            positions = range(len(table.keys))
        else:  # only the actions an Allow statement names are candidates
            keys_named = frozenset[str]().union(*(match for match in named if match is not None))
            positions = sorted(table.position[key] for key in keys_named)
        for index in positions:
            key = table.keys[index]
            signature = tuple(number for number, match in entries if match is None or key in match)
            answer = granted(service, signature, table.actions[index])
            if answer:
                one(table, index, service, answer)
    return _Columns(
        tuple(actions),
        tuple(resources_out),
        tuple(services),
        tuple(levels),
        tuple(conditional),
        tuple(keys_out),
        tuple(ranks),
        tuple(lower),
    )


def _one_by_one(policies: PolicySet, ask: _Ask) -> _Columns:
    """The role's grants, asking the evaluator about every candidate action separately:
    the plain reading of `_by_class` (slow; `exact=True`, for tests)."""
    candidates: dict[str, tuple[catalog.ActionInfo, tuple[str, ...]]] = {}
    for policy in policies.identity:
        for statement in policy.statements:
            if statement.effect is not Effect.ALLOW:
                continue
            resources = statement.resource if statement.resource is not None else ("*",)
            patterns = statement.action if statement.action is not None else ("*",)
            for pattern in patterns:
                for key, info in _pattern_entries(pattern):
                    entry = candidates.get(key)
                    if entry is None:
                        candidates[key] = (info, resources)
                    elif entry[1] != resources:
                        merged = tuple(dict.fromkeys((*entry[1], *resources)))
                        candidates[key] = (info, merged)
    grants: list[_RoleGrant] = []
    for key, (info, wanted) in candidates.items():
        rank = _LEVEL_ORDER[info.access_level]
        for resource, cond, keys in _asked(ask, info.action, wanted):
            grants.append(
                (info.service, rank, key, resource, info.action, info.access_level, cond, keys)
            )
    grants.sort()
    return _Columns.of(grants)


def _permissions(resolver: _Resolver, workload: Workload) -> WorkloadPermissions:
    parts: list[tuple[Grant, ...]] = []
    sources: list[tuple[Role, SourceKind, str | None]] = []
    seen: set[tuple[SourceKind, str | None]] = set()
    unknown: dict[tuple[str, str, str], UnknownAction] = {}
    notes: list[str] = list(workload.notes)
    for cred in workload.credentials:
        if not cred.exposed:
            continue
        if cred.resolved is None:
            notes.append(
                f"{cred.source.value} `{cred.role or '?'}` is unresolved: "
                "its permissions are unknown"
            )
            continue
        if (cred.source, cred.role) in seen:
            continue  # the same role through the same kind of source (two capacities)
        seen.add((cred.source, cred.role))
        result = resolver.role(cred.resolved)
        for note in result.notes:
            if note not in notes:
                notes.append(note)
        granted = resolver.grants(cred.resolved, cred.source, cred.role)
        if granted:
            parts.append(granted)
            sources.append((cred.resolved, cred.source, cred.role))
        for pattern, reason, outcome in result.unknown:
            ukey = (cred.source.value, cred.role or "", pattern)
            if ukey not in unknown:
                unknown[ukey] = UnknownAction(pattern, cred.source, cred.role, reason, outcome)
    if len(parts) == 1:
        allowed = parts[0]  # already in report order
    else:
        # Stable sort on precomputed `Grant.sort_key()` values: the order of
        # `sorted(grants, key=Grant.sort_key)` without calling it per grant and workload.
        # The parts are sorted runs: the stable sort of their positions merges them, with
        # only C-level calls per grant.
        keys = list(chain.from_iterable(resolver.sort_keys(*source) for source in sources))
        grants = list(chain.from_iterable(parts))
        order = sorted(range(len(keys)), key=keys.__getitem__)
        allowed = tuple(map(grants.__getitem__, order))
    return WorkloadPermissions(
        id=workload.id,
        kind=workload.kind,
        platform=workload.platform,
        credentials=workload.credentials,
        allowed=allowed,
        unknown_actions=tuple(sorted(unknown.values(), key=lambda u: (u.action, u.source.value))),
        notes=tuple(notes),
        workload=workload,
    )


def effective_permissions(
    ws: Workspace, workload_id: str | None = None, *, exact: bool = False
) -> EffectiveReport:
    """What every workload (or the one named) can do, attributed to credential sources.

    Raises `PolicyevalError` when `workload_id` names no workload (a usage error).
    `exact=True` asks the evaluator about every action separately (slow; for tests).
    """
    workloads = resolve_credentials(ws)
    if workload_id is not None:
        workloads = tuple(w for w in workloads if w.id == workload_id)
        if not workloads:
            known = ", ".join(f"`{w.id}`" for w in resolve_credentials(ws)[:20])
            raise PolicyevalError(
                [
                    Diagnostic(
                        "PE089",
                        Severity.ERROR,
                        f"no workload `{workload_id}` in the inputs",
                        help=f"known workloads: {known}"
                        if known
                        else "the inputs define no workload",
                    )
                ]
            )
    return EffectiveReport(
        workloads=permissions_of(ws, workloads, exact=exact),
        diagnostics=ws.diagnostics,
    )


def permissions_of(
    ws: Workspace, workloads: Iterable[Workload], *, exact: bool = False
) -> tuple[WorkloadPermissions, ...]:
    """Effective permissions of the given workloads only (resolved from `ws` by
    `resolve_credentials`), in the order given: what `effective_permissions` reports for
    them, without evaluating roles that no other workload asked about."""
    from policyeval._gc import collector_paused

    resolver = _Resolver(ws, exact=exact)
    with collector_paused():
        return tuple(_permissions(resolver, w) for w in workloads)

"""CompiledPolicySet: the policies of every gate, compiled once, serving many requests.

Statements become slotted objects with pre-built matchers, indexed per gate by service
prefix so a request only looks at statements that can name its action. No pydantic and no
generated code on the hot path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from policyeval.compiler.arn import PrincipalIdentity, PrincipalMatch, match_principal_entry
from policyeval.compiler.conditions import CompiledCondition, Context, Tri, compile_condition
from policyeval.compiler.gates import Gate, StatementRef
from policyeval.compiler.variables import Missing, Part, has_variables, parse_template, to_tokens
from policyeval.compiler.wildcard import Wildcard, compile_pattern, compile_tokens
from policyeval.model.policy import Effect, Policy, Principal, Statement


@dataclass(frozen=True, slots=True)
class PolicySet:
    """The policies that apply to one principal, by evaluation gate.

    `scps` / `rcps` are organisation levels, root first and account last; every level must
    allow. An empty tuple means no organisation policy applies.
    """

    identity: tuple[Policy, ...] = ()
    boundary: Policy | None = None
    session: Policy | None = None
    resource: Policy | None = None
    scps: tuple[tuple[Policy, ...], ...] = ()
    rcps: tuple[tuple[Policy, ...], ...] = ()


def _always(_text: str) -> bool:
    return True


def _never(_text: str) -> bool:
    return False


def _negation(check: Callable[[str], bool]) -> Callable[[str], bool]:
    return lambda text: not check(text)


def _all_of(checks: tuple[Callable[[Context], bool], ...]) -> Callable[[Context], bool]:
    def every(context: Context) -> bool:
        for check in checks:  # noqa: SIM110 (a plain loop is faster than all() on a generator)
            if not check(context):
                return False
        return True

    return every


class _ActionMatcher:
    """Action / NotAction patterns: exact names in a set, wildcards compiled (case folded)."""

    __slots__ = ("_predicates", "exact", "match_all", "patterns")

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self._predicates: dict[bool, Callable[[str], bool]] = {}
        self.exact: frozenset[str] = frozenset(
            p.lower() for p in patterns if "*" not in p and "?" not in p
        )
        self.patterns: tuple[Wildcard, ...] = tuple(
            _action_pattern(p) for p in patterns if ("*" in p or "?" in p) and p != "*"
        )
        self.match_all = "*" in patterns

    def predicate(self, negate: bool) -> Callable[[str], bool]:
        """A one-argument test of a lower-cased action (negated for NotAction), as cheap
        as the patterns allow: a set look-up for exact names, one `str.startswith` for
        `prefix*` patterns, the rest matched pattern by pattern."""
        found = self._predicates.get(negate)
        if found is None:
            found = self._predicates[negate] = self._predicate(negate)
        return found

    def _predicate(self, negate: bool) -> Callable[[str], bool]:
        if self.match_all:
            return _never if negate else _always
        exact = self.exact
        prefixes = tuple(p.prefix for p in self.patterns if p.prefix is not None)
        others = tuple(p for p in self.patterns if p.prefix is None)
        if others:
            matches = self.matches
            if negate:
                return lambda action: not matches(action)
            return matches
        if not prefixes:
            if negate:
                return lambda action: action not in exact
            return exact.__contains__
        if not exact:
            if negate:
                return lambda action: not action.startswith(prefixes)
            return lambda action: action.startswith(prefixes)
        if negate:
            return lambda action: not (action in exact or action.startswith(prefixes))
        return lambda action: action in exact or action.startswith(prefixes)

    def matches(self, action: str) -> bool:
        if self.match_all or action in self.exact:
            return True
        return any(p.matches(action) for p in self.patterns)


@lru_cache(maxsize=65536)
def _resource_pattern(pattern: str, substitute: bool) -> Wildcard | tuple[Part, ...]:
    """One Resource pattern compiled once per run, however many statements repeat it;
    patterns with policy variables stay templates, resolved per request."""
    if "$" not in pattern:  # no variable and no `${*}`-style escape: plain pattern text
        return compile_pattern(pattern)
    parts = parse_template(pattern, substitute=substitute)
    if has_variables(parts):
        return parts
    tokens = to_tokens(parts, {}, frozenset(), wildcards=True)
    assert isinstance(tokens, list)
    return compile_tokens(tokens)


@lru_cache(maxsize=65536)
def _action_pattern(pattern: str) -> Wildcard:
    return compile_pattern(pattern.lower())


@lru_cache(maxsize=16384)
def _action_matcher(patterns: tuple[str, ...]) -> _ActionMatcher:
    return _ActionMatcher(patterns)


@lru_cache(maxsize=16384)
def _resource_matcher(patterns: tuple[str, ...], substitute: bool) -> _ResourceMatcher:
    return _ResourceMatcher(patterns, substitute)


@lru_cache(maxsize=16384)
def _condition(
    operator: str, key: str, values: tuple[str, ...], substitute: bool
) -> CompiledCondition:
    return compile_condition(operator, key, values, substitute)


class _ResourceMatcher:
    """Resource / NotResource patterns; variables resolved per request when present."""

    __slots__ = ("_memo", "_predicate", "fixed", "match_all", "templated")

    def __init__(self, patterns: tuple[str, ...], substitute: bool) -> None:
        self.match_all = "*" in patterns
        fixed: list[Wildcard] = []
        templated = []
        for pattern in patterns:
            compiled = _resource_pattern(pattern, substitute)
            if isinstance(compiled, Wildcard):
                fixed.append(compiled)
            else:
                templated.append(compiled)
        self.fixed = tuple(fixed)
        self.templated = tuple(templated)
        self._memo: dict[str, bool] = {}
        self._predicate: Callable[[str], bool] | bool | None = False  # False: not built yet

    def fixed_predicate(self) -> Callable[[str], bool] | None:
        """A one-argument test for matchers without policy variables (None otherwise):
        exact ARNs in a set, `prefix*` patterns in one `str.startswith`, the rest matched
        pattern by pattern."""
        found = self._predicate
        if found is False:
            found = self._predicate = self._build_predicate()
        assert found is not True
        return found

    def _build_predicate(self) -> Callable[[str], bool] | None:
        if self.match_all:
            return _always
        if self.templated:
            return None
        literals = frozenset(w.literal for w in self.fixed if w.literal is not None)
        prefixes = tuple(w.prefix for w in self.fixed if w.literal is None and w.prefix is not None)
        others = tuple(w for w in self.fixed if w.literal is None and w.prefix is None)
        if not others:
            if not prefixes:
                return literals.__contains__
            if not literals:
                return lambda resource: resource.startswith(prefixes)
            return lambda resource: resource in literals or resource.startswith(prefixes)
        memo: dict[str, bool] = {}

        def check(resource: str) -> bool:
            if resource in literals or (prefixes and resource.startswith(prefixes)):
                return True
            hit = memo.get(resource)
            if hit is None:
                hit = False
                for wildcard in others:  # (a loop: cheaper than any() over a generator)
                    if wildcard.matches(resource):
                        hit = True
                        break
                if len(memo) >= _ACTION_CACHE_SIZE:
                    memo.clear()
                memo[resource] = hit
            return hit

        return check

    def matches(self, resource: str, context: Context, unknown: frozenset[str] | None) -> Tri:
        if self.match_all:
            return True
        fixed_hit = self._memo.get(resource)
        if fixed_hit is None:
            fixed_hit = any(wildcard.matches(resource) for wildcard in self.fixed)
            if len(self._memo) >= _ACTION_CACHE_SIZE:
                self._memo.clear()
            self._memo[resource] = fixed_hit
        if fixed_hit:
            return True
        pending: frozenset[str] = frozenset()
        for parts in self.templated:
            tokens = to_tokens(parts, context, unknown, wildcards=True)
            if isinstance(tokens, Missing):
                continue
            if isinstance(tokens, frozenset):
                pending |= tokens
                continue
            if compile_tokens(tokens).matches(resource):
                return True
        return pending if pending else False


#: `CompiledStatement.kind`: what the engine checks besides Resource and Condition.
KIND_PLAIN = 0  # identity, boundary, session: nothing else
KIND_SCP = 1  # only when SCPs apply to the principal
KIND_RCP = 2  # only when RCPs apply, and the Principal element must name the caller
KIND_RESOURCE = 3  # the Principal element must name the caller
#: A resource policy's statements for the action's service, not narrowed to the action
#: (a set paired with a resource policy is usually asked one question): the engine tests
#: each one's action too.
KIND_RESOURCE_UNNARROWED = 4

#: `CompiledStatement.resource_mode`: how the engine's fast path tests the resource.
RESOURCE_ANY = 0  # always matches
RESOURCE_FIXED = 1  # `resource_check(resource)`
RESOURCE_TEMPLATED = 2  # policy variables: `resource_matches(resource, context, EMPTY)`


class CompiledStatement:
    """One statement, compiled in two steps. What action matching needs (the Action /
    NotAction matcher and `action_check`) is built at once; the rest (Resource, Principal,
    Condition and the fast path's pre-decided checks) by `complete()`. A policy compiled
    `lazy` completes a statement only once it names an asked action (the batch mode: most
    of a one-off resource policy, and a role's statements about actions nobody asks about,
    are never completed); otherwise every statement is completed with its policy. Plans
    hold completed statements, except unnarrowed resource groups, which the engine
    completes as it goes."""

    __slots__ = (
        "_source",
        "_substitute",
        "action",
        "action_check",
        "condition_check",
        "conditions",
        "deny",
        "not_action",
        "not_principal",
        "not_resource",
        "principal",
        "ready",
        "ref",
        "resource",
        "resource_check",
        "resource_mode",
    )

    def __init__(
        self, statement: Statement, ref: StatementRef, substitute: bool, lazy: bool = False
    ) -> None:
        self.ref = ref
        self.deny = statement.effect is Effect.DENY
        # Matchers and conditions are shared by every statement that repeats the same
        # element (their memos depend only on it and on the request).
        self.action = _action_matcher(statement.action) if statement.action is not None else None
        self.not_action = (
            _action_matcher(statement.not_action) if statement.not_action is not None else None
        )
        if self.action is not None:
            self.action_check = self.action.predicate(False)
        elif self.not_action is not None:
            self.action_check = self.not_action.predicate(True)
        else:
            self.action_check = _never
        self._source = statement
        self._substitute = substitute
        self.ready = False
        if not lazy:
            self.complete()

    def complete(self) -> None:
        """Build the Resource, Principal and Condition parts (once)."""
        if self.ready:
            return
        statement = self._source
        substitute = self._substitute
        self.resource = (
            _resource_matcher(statement.resource, substitute)
            if statement.resource is not None
            else None
        )
        self.not_resource = (
            _resource_matcher(statement.not_resource, substitute)
            if statement.not_resource is not None
            else None
        )
        self.principal = statement.principal
        self.not_principal = statement.not_principal
        self.conditions: tuple[CompiledCondition, ...] = tuple(
            _condition(c.operator, c.key, c.values, substitute) for c in statement.condition
        )
        # Pre-decided parts for the engine's fast path (complete context, no unknown keys).
        self.resource_check: Callable[[str], bool] | None = None
        self.resource_mode = RESOURCE_ANY
        matcher = self.resource if self.resource is not None else self.not_resource
        if matcher is not None:
            check = matcher.fixed_predicate()
            if check is None:
                self.resource_mode = RESOURCE_TEMPLATED
            elif self.resource is None:  # NotResource
                self.resource_mode = RESOURCE_FIXED
                self.resource_check = _negation(check)
            elif check is not _always:
                self.resource_mode = RESOURCE_FIXED
                self.resource_check = check
        self.condition_check: Callable[[Context], bool] | None = None
        checks = tuple(c.complete_check_for(self.deny) for c in self.conditions)
        if len(checks) == 1:
            self.condition_check = checks[0]
        elif checks:
            self.condition_check = _all_of(checks)
        self.ready = True

    def action_matches(self, action: str) -> bool:
        if self.action is not None:
            return self.action.matches(action)
        if self.not_action is not None:
            return not self.not_action.matches(action)
        return False

    def resource_matches(
        self, resource: str, context: Context, unknown: frozenset[str] | None
    ) -> Tri:
        if self.resource is not None:
            return self.resource.matches(resource, context, unknown)
        if self.not_resource is not None:
            hit = self.not_resource.matches(resource, context, unknown)
            return (not hit) if isinstance(hit, bool) else hit
        return True  # no Resource element: resource policies may omit it

    def principal_match(self, who: PrincipalIdentity, has_boundary: bool) -> PrincipalMatch | None:
        """How this statement's Principal / NotPrincipal names `who` (resource-side gates)."""
        if self.principal is not None:
            return _best_match(self.principal, who)
        if self.not_principal is not None:
            # IAM User Guide, "Permissions boundaries": a Deny with NotPrincipal in a resource
            # policy always denies principals that have a permissions boundary.
            if self.deny and has_boundary:
                return PrincipalMatch.DIRECT
            named = _best_match(self.not_principal, who, exact_only=True)
            return None if named is not None else PrincipalMatch.DIRECT
        if self.ref.gate is Gate.RESOURCE and not self.deny:
            # AWS refuses a resource policy statement without a principal; such an Allow
            # grants nothing (a Deny without one is kept: it can only remove access).
            return None
        return PrincipalMatch.EVERYONE  # RCPs, and Deny statements without a Principal

    def conditions_match(self, context: Context, unknown: frozenset[str] | None) -> Tri:
        pending: frozenset[str] = frozenset()
        for condition in self.conditions:
            result = condition.evaluate(context, unknown, self.deny)
            if result is False:
                return False
            if isinstance(result, frozenset):
                pending |= result
        return pending if pending else True


#: Distinct actions remembered per compiled policy before the memo is reset.
_ACTION_CACHE_SIZE = 4096

_MATCH_ORDER = (
    PrincipalMatch.DIRECT,
    PrincipalMatch.ROLE,
    PrincipalMatch.EVERYONE,
    PrincipalMatch.ACCOUNT,
)


def _best_match(
    entries: tuple[Principal, ...], who: PrincipalIdentity, exact_only: bool = False
) -> PrincipalMatch | None:
    if len(entries) == 1 and not exact_only:  # the common case: one entry, its own match
        entry = entries[0]
        return match_principal_entry(entry.kind, entry.value, who)
    found: set[PrincipalMatch] = set()
    for entry in entries:
        match = match_principal_entry(entry.kind, entry.value, who)
        if match is not None:
            found.add(match)
    if exact_only:
        # NotPrincipal excludes a requester only when it names its own identity
        # (IAM User Guide, "NotPrincipal": a role ARN does not exclude its sessions).
        if PrincipalMatch.DIRECT in found or PrincipalMatch.EVERYONE in found:
            return PrincipalMatch.DIRECT
        if who.type.value == "role" and PrincipalMatch.ROLE in found:
            return PrincipalMatch.DIRECT
        return None
    for candidate in _MATCH_ORDER:
        if candidate in found:
            return candidate
    return None


class CompiledPolicy:
    """One policy's statements, indexed by the service prefixes their actions can name."""

    __slots__ = (
        "_by_action",
        "_exact",
        "_split",
        "_split_other",
        "_wild_by_service",
        "any_service",
        "by_service",
        "name",
        "statements",
    )

    def __init__(self, policy: Policy, gate: Gate, lazy: bool = False) -> None:
        # Plain loops rather than comprehensions: the batch mode compiles a one-off resource
        # policy per case, and this constructor is a good part of that.
        name = self.name = policy.name
        substitute = policy.substitutes_variables
        statements: list[CompiledStatement] = []
        by_service: dict[str, list[CompiledStatement]] = {}
        any_service: list[CompiledStatement] = []
        for index, stmt in enumerate(policy.statements):
            ref = _new_ref((gate, name, index, stmt.sid, _EFFECT_TEXT[stmt.effect], stmt.span))
            compiled = CompiledStatement(stmt, ref, substitute, lazy)
            statements.append(compiled)
            services = _services_of(stmt.action) if stmt.action is not None else None
            if services is None:
                any_service.append(compiled)
            else:
                for service in services:
                    found = by_service.get(service)
                    if found is None:
                        by_service[service] = [compiled]
                    else:
                        found.append(compiled)
        self.statements: tuple[CompiledStatement, ...] = tuple(statements)
        self.any_service = tuple(any_service)
        self._exact: dict[str, tuple[CompiledStatement, ...]] | None = None
        self._wild_by_service: dict[str, tuple[CompiledStatement, ...]] = {}
        self._by_action: dict[str, tuple[CompiledStatement, ...]] = {}
        # The same index split into Deny and Allow statements (statement order kept), for
        # the engine's fast path; services no Action names share `_split_other`.
        self._split_other: tuple[Statements, Statements] = _by_effect(any_service)
        self.by_service = {}
        self._split: dict[str, tuple[Statements, Statements]] = {}
        for service, named in by_service.items():
            self.by_service[service] = tuple(named)
            # The fast path's groups hold the statements of any service too, in order.
            merged = sorted((*named, *any_service), key=_statement_order) if any_service else named
            self._split[service] = _by_effect(merged)

    @property
    def exact(self) -> dict[str, tuple[CompiledStatement, ...]]:
        """Statements whose Action names only exact actions, by action (built on first use:
        only the general evaluation looks actions up this way)."""
        if self._exact is None:
            self._index_actions()
        assert self._exact is not None
        return self._exact

    @property
    def wild_by_service(self) -> dict[str, tuple[CompiledStatement, ...]]:
        """The other statements of each service, matched pattern by pattern."""
        if self._exact is None:
            self._index_actions()
        return self._wild_by_service

    def _index_actions(self) -> None:
        exact: dict[str, list[CompiledStatement]] = {}
        wild: dict[str, list[CompiledStatement]] = {}
        for service, statements in self.by_service.items():
            for statement in statements:
                matcher = statement.action
                if matcher is not None and not matcher.patterns and not matcher.match_all:
                    for name in matcher.exact:
                        if name.split(":", 1)[0] == service:
                            exact.setdefault(name, []).append(statement)
                else:
                    wild.setdefault(service, []).append(statement)
        self._wild_by_service = {k: tuple(v) for k, v in wild.items()}
        self._exact = {k: tuple(v) for k, v in exact.items()}

    def split_for_service(self, service: str) -> tuple[Statements, Statements]:
        """(Deny statements, Allow statements) whose Action / NotAction can name an action
        of `service`, each in statement order."""
        return self._split.get(service, self._split_other)

    def for_action(self, action: str) -> tuple[CompiledStatement, ...]:
        """Statements whose Action / NotAction matches `action` (lower-cased), memoised:
        action matching does not depend on the rest of the request."""
        found = self._by_action.get(action)
        if found is None:
            service = action.split(":", 1)[0]
            matched = [
                *self.exact.get(action, ()),
                *(s for s in self.wild_by_service.get(service, ()) if s.action_matches(action)),
                *(s for s in self.any_service if s.action_matches(action)),
            ]
            matched.sort(key=_statement_order)
            for statement in matched:
                if not statement.ready:
                    statement.complete()
            found = tuple(matched)
            if len(self._by_action) >= _ACTION_CACHE_SIZE:
                self._by_action.clear()
            self._by_action[action] = found
        return found


def _by_effect(statements: list[CompiledStatement]) -> tuple[Statements, Statements]:
    """(Deny statements, Allow statements), each in the given order."""
    deny = [s for s in statements if s.deny]
    if not deny:
        return (), tuple(statements)
    if len(deny) == len(statements):
        return tuple(statements), ()
    return tuple(deny), tuple([s for s in statements if not s.deny])


_EFFECT_TEXT = {effect: effect.value for effect in Effect}


def _statement_order(statement: CompiledStatement) -> int:
    return statement.ref.index


def _services_of(actions: tuple[str, ...]) -> set[str] | None:
    """Service prefixes named by Action patterns; None when a pattern's prefix is wild."""
    services: set[str] = set()
    for action in actions:
        prefix, sep, _ = action.partition(":")
        if not sep or "*" in prefix or "?" in prefix:
            return None
        services.add(prefix.lower())
    return services


#: `StatementRef` from a tuple of its fields, without the named tuple's Python `__new__`.
_new_ref = StatementRef._make


#: One statement that can apply to an action: its gate, its organisation level (0 outside
#: SCPs / RCPs) and the statement.
PlanEntry = tuple[Gate, int, "CompiledStatement"]

Statements = tuple["CompiledStatement", ...]
#: The fast path's plan: groups of statements of one policy, each with its kind (`KIND_*`,
#: from the gate the policy sits at) and the slot its gate and organisation level fill once
#: an Allow there matches (-1 for the resource gate, whose every match counts).
FastGroups = tuple[tuple[int, int, Statements], ...]
#: (Deny groups, Allow groups), every statement in them naming the action.
FastPlan = tuple[FastGroups, FastGroups]

#: Slots of the gates that hold one Allow each (organisation levels: `level * 8 + code`).
_SLOT_IDENTITY = 0
_SLOT_BOUNDARY = 1
_SLOT_SESSION = 2
_SLOT_SCP = 4
_SLOT_RCP = 5


@dataclass(frozen=True, slots=True)
class CompiledPolicySet:
    identity: tuple[CompiledPolicy, ...]
    boundary: CompiledPolicy | None
    session: CompiledPolicy | None
    resource: CompiledPolicy | None
    scps: tuple[tuple[CompiledPolicy, ...], ...]
    rcps: tuple[tuple[CompiledPolicy, ...], ...]
    _plans: dict[str, tuple[PlanEntry, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _fast_plans: dict[str, FastPlan] = field(default_factory=dict, compare=False, repr=False)
    _service_groups: dict[str, tuple[FastGroups, FastGroups]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _members: list[tuple[int, int, CompiledPolicy]] = field(
        default_factory=list, compare=False, repr=False
    )
    #: For a set made by `with_resource_policy`: the set it extends, whose plans it reuses.
    _base: CompiledPolicySet | None = field(default=None, compare=False, repr=False)

    def fast_plan(self, action: str) -> FastPlan:
        """The statements `plan(action)` lists, as Deny and Allow groups (same order), for
        the engine's fast path; memoised per action. They come from the groups of the
        action's service (`_service_groups`), narrowed to the statements that name it."""
        base = self._base
        if base is not None and self.resource is not None:
            # The base set's groups, then this set's resource policy (the order of groups of
            # different gates does not change a decision or its explanation).
            known = base._fast_plans.get(action)
            base_denies, base_allows = known if known is not None else base.fast_plan(action)
            own_deny, own_allow = self.resource.split_for_service(action.split(":", 1)[0])
            if own_deny:
                base_denies = (*base_denies, (KIND_RESOURCE_UNNARROWED, -1, own_deny))
            if own_allow:
                base_allows = (*base_allows, (KIND_RESOURCE_UNNARROWED, -1, own_allow))
            plan = (base_denies, base_allows)
        else:
            service = action.split(":", 1)[0]
            groups = self._service_groups.get(service) or self._groups_for(service)
            plan = _narrow(groups, action)
        if len(self._fast_plans) >= _ACTION_CACHE_SIZE:
            self._fast_plans.clear()
        self._fast_plans[action] = plan
        return plan

    def _groups_for(self, service: str) -> tuple[FastGroups, FastGroups]:
        """Every statement of the set whose Action / NotAction can name an action of
        `service`, as Deny and Allow groups of one policy each (see `FastGroups`)."""
        denies: list[tuple[int, int, Statements]] = []
        allows: list[tuple[int, int, Statements]] = []
        for kind, slot, policy in self._members or self._list_members():
            deny, allow = policy.split_for_service(service)
            if deny:
                denies.append((kind, slot, deny))
            if allow:
                allows.append((kind, slot, allow))
        groups = (tuple(denies), tuple(allows))
        if len(self._service_groups) >= _ACTION_CACHE_SIZE:
            self._service_groups.clear()
        self._service_groups[service] = groups
        return groups

    def with_resource_policy(self, policy: Policy | CompiledPolicy | None) -> CompiledPolicySet:
        """This set with `policy` as its resource policy (None: without one). Every other
        compiled policy, and what it has learnt about actions, is shared: compile a
        principal's policies once, then pair them with each resource's own policy."""
        base = self._base or self
        if base.resource is not None:  # compiled with a resource policy: make the base once
            base = CompiledPolicySet(
                self.identity, self.boundary, self.session, None, self.scps, self.rcps
            )
            object.__setattr__(self, "_base", base)  # a memo, like the plans
        if policy is None:
            return base
        return CompiledPolicySet(
            identity=self.identity,
            boundary=self.boundary,
            session=self.session,
            resource=policy
            if isinstance(policy, CompiledPolicy)
            else CompiledPolicy(policy, Gate.RESOURCE),
            scps=self.scps,
            rcps=self.rcps,
            _base=base,
        )

    def _list_members(self) -> list[tuple[int, int, CompiledPolicy]]:
        """Every policy of the set with its kind (`KIND_*`) and slot, in plan order."""
        members = self._members
        for policy in self.identity:
            members.append((KIND_PLAIN, _SLOT_IDENTITY, policy))
        if self.boundary is not None:
            members.append((KIND_PLAIN, _SLOT_BOUNDARY, self.boundary))
        if self.session is not None:
            members.append((KIND_PLAIN, _SLOT_SESSION, self.session))
        if self.resource is not None:
            members.append((KIND_RESOURCE, -1, self.resource))
        for kind, code, levels in (
            (KIND_SCP, _SLOT_SCP, self.scps),
            (KIND_RCP, _SLOT_RCP, self.rcps),
        ):
            for depth, level in enumerate(levels):
                members.extend((kind, depth * 8 + code, policy) for policy in level)
        return members

    def plan(self, action: str) -> tuple[PlanEntry, ...]:
        """Every statement of every gate whose Action / NotAction matches `action`
        (lower-cased), Deny statements first; memoised: it depends on nothing else in the
        request."""
        found = self._plans.get(action)
        if found is not None:
            return found
        entries: list[PlanEntry] = []
        singles = (
            *((Gate.IDENTITY, p) for p in self.identity),
            (Gate.BOUNDARY, self.boundary),
            (Gate.SESSION, self.session),
            (Gate.RESOURCE, self.resource),
        )
        for gate, policy in singles:
            if policy is not None:
                entries.extend((gate, 0, s) for s in policy.for_action(action))
        for gate, levels in ((Gate.SCP, self.scps), (Gate.RCP, self.rcps)):
            for depth, level in enumerate(levels):
                for policy in level:
                    entries.extend((gate, depth, s) for s in policy.for_action(action))
        if len(self._plans) >= _ACTION_CACHE_SIZE:
            self._plans.clear()
        entries.sort(key=lambda entry: not entry[2].deny)  # stable: Deny statements first
        result = tuple(entries)
        self._plans[action] = result
        return result


def _narrow(groups: tuple[FastGroups, FastGroups], action: str) -> FastPlan:
    """Groups cut down to the statements whose Action / NotAction names `action` (empty
    groups dropped)."""
    narrowed: list[FastGroups] = []
    for side in groups:
        kept: list[tuple[int, int, Statements]] = []
        for kind, slot, statements in side:
            chosen = [s for s in statements if s.action_check(action)]
            if not chosen:
                continue
            for statement in chosen:
                if not statement.ready:
                    statement.complete()
            kept.append(
                (kind, slot, statements if len(chosen) == len(statements) else tuple(chosen))
            )
        narrowed.append(tuple(kept))
    return narrowed[0], narrowed[1]


def compile_policies(policies: PolicySet) -> CompiledPolicySet:
    """Compile every policy of a set once; the result serves any number of requests."""

    def one(policy: Policy | None, gate: Gate) -> CompiledPolicy | None:
        return CompiledPolicy(policy, gate) if policy is not None else None

    return CompiledPolicySet(
        identity=tuple(CompiledPolicy(p, Gate.IDENTITY) for p in policies.identity),
        boundary=one(policies.boundary, Gate.BOUNDARY),
        session=one(policies.session, Gate.SESSION),
        resource=one(policies.resource, Gate.RESOURCE),
        scps=tuple(tuple(CompiledPolicy(p, Gate.SCP) for p in level) for level in policies.scps),
        rcps=tuple(tuple(CompiledPolicy(p, Gate.RCP) for p in level) for level in policies.rcps),
    )

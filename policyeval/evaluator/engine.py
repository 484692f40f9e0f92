"""The AWS evaluation logic, gate by gate.

IAM User Guide, "Policy evaluation logic" and "How AWS enforcement code logic evaluates
requests to allow or deny access":
1. an explicit Deny in any applicable policy (SCP, RCP, resource, identity, boundary,
   session) decides ExplicitDeny;
2. RCPs (for resources of the services that support them) and SCPs (for IAM principals of
   the organisation, not service-linked roles) must allow at every level;
3. same account: an Allow in the identity policies, capped by the boundary and session
   policy, or an Allow in the resource policy, is enough. A resource grant to the role ARN
   is capped by the boundary and session policy; a grant to the exact session, IAM user or
   federated-user ARN is not;
4. cross account: both the identity side (with boundary and session policy) and the
   resource policy must allow.

Unknown context keys are handled with three-valued statement matches: every combination of
the undecided statements is tried, and the answer is definite only when they all agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

from policyeval.compiler.arn import (
    PrincipalIdentity,
    PrincipalMatch,
    PrincipalType,
    parse_principal,
)
from policyeval.compiler.compiled import (
    KIND_RCP,
    KIND_RESOURCE,
    KIND_RESOURCE_UNNARROWED,
    KIND_SCP,
    RESOURCE_FIXED,
    CompiledPolicySet,
    CompiledStatement,
)
from policyeval.evaluator.decision import Decision, Gate, Outcome, StatementRef
from policyeval.evaluator.request import Request

#: Services whose resources RCPs apply to (AWS Organizations User Guide, "Resource control
#: policies (RCPs)", list of supported services).
RCP_SERVICES = frozenset(
    {
        "s3",
        "sts",
        "kms",
        "sqs",
        "secretsmanager",
        "cognito-identity",
        "logs",
        "dynamodb",
        "ecr",
        "aoss",
    }
)

#: With more undecided statements than this the answer is CONDITIONAL without enumeration.
MAX_UNDECIDED = 10


@dataclass(slots=True)
class _Hit:
    """A statement whose action matched: `value` is True, False or the unknown keys."""

    statement: CompiledStatement
    value: bool | frozenset[str]
    principal: PrincipalMatch | None
    gate: Gate
    level: int


def evaluate(compiled: CompiledPolicySet, request: Request) -> Decision:
    """Decide one request against a compiled policy set, with an explanation.

    With a complete context and no unknown keys every statement match is True or False;
    that common case takes a fast path (per-action plans split into Deny and Allow
    statements, checks pre-decided per statement) that gives the same decision as the
    general three-valued evaluation (`evaluate_general`, which tests compare it with).
    """
    if request.unknown_keys or not request.context_complete:
        return evaluate_general(compiled, request)
    caller = _CALLERS.get(request.principal)
    who, scp_subject, rcp_subject = caller if caller is not None else _caller(request.principal)
    action = request.action_key
    plan = compiled._fast_plans.get(action)
    denies, allows = plan if plan is not None else compiled.fast_plan(action)
    context = request.context  # keys already lower-cased by Request
    resource = request.resource
    scps_apply = scp_subject and compiled.scps != ()
    rcps_apply = rcp_subject and compiled.rcps != () and action.split(":", 1)[0] in RCP_SERVICES
    has_boundary = compiled.boundary is not None

    # The Deny and Allow loops below test a statement the same way, written out in each:
    # this is the hot path, and a shared helper costs a call per statement.
    denied: list[tuple[CompiledStatement, int]] = []
    for kind, slot, statements in denies:
        if kind == KIND_SCP:
            if not scps_apply:
                continue
        elif kind == KIND_RCP and not rcps_apply:
            continue
        for statement in statements:
            if kind >= KIND_RCP:
                if kind == KIND_RESOURCE_UNNARROWED:
                    if not statement.action_check(action):
                        continue
                    if not statement.ready:
                        statement.complete()
                if statement.principal_match(who, has_boundary) is None:
                    continue
            mode = statement.resource_mode
            if mode:
                if mode == RESOURCE_FIXED:
                    if not statement.resource_check(resource):  # type: ignore[misc]
                        continue
                elif statement.resource_matches(resource, context, _NO_UNKNOWN) is not True:
                    continue
            check = statement.condition_check
            if check is not None and not check(context):
                continue
            denied.append((statement, slot))
    if denied:
        return _explicit_deny(denied)

    # The statement that allows at each gate and organisation level (by slot, in plan
    # order): once one matches, further Allows there change neither the outcome nor the
    # gate that decides. Every matching resource policy statement counts.
    allowed: dict[int, StatementRef] = {}
    granted: list[tuple[StatementRef, PrincipalMatch | None]] = []
    for kind, slot, statements in allows:
        if kind == KIND_SCP:
            if not scps_apply:
                continue
        elif kind == KIND_RCP and not rcps_apply:
            continue
        if slot in allowed:
            continue
        for statement in statements:
            if kind >= KIND_RCP:
                if kind == KIND_RESOURCE_UNNARROWED:
                    if not statement.action_check(action):
                        continue
                    if not statement.ready:
                        statement.complete()
                principal = statement.principal_match(who, has_boundary)
                if principal is None:
                    continue
            mode = statement.resource_mode
            if mode:
                if mode == RESOURCE_FIXED:
                    if not statement.resource_check(resource):  # type: ignore[misc]
                        continue
                elif statement.resource_matches(resource, context, _NO_UNKNOWN) is not True:
                    continue
            check = statement.condition_check
            if check is not None and not check(context):
                continue
            if kind >= KIND_RESOURCE:
                granted.append((statement.ref, principal))
            else:
                allowed[slot] = statement.ref
                break
    return _decide_complete(
        allowed,
        granted,
        who,
        request,
        compiled,
        len(compiled.scps) if scps_apply else 0,
        len(compiled.rcps) if rcps_apply else 0,
    )


_NO_UNKNOWN: frozenset[str] = frozenset()
_GATE_OF_SLOT = {
    code: gate
    for gate, code in (
        (Gate.IDENTITY, 0),
        (Gate.BOUNDARY, 1),
        (Gate.SESSION, 2),
        (Gate.SCP, 4),
        (Gate.RCP, 5),
    )
}
_SLOT_IDENTITY = 0
_SLOT_BOUNDARY = 1
_SLOT_SESSION = 2
_SLOT_SCP = 4
_SLOT_RCP = 5

# Enum members the hot path names, bound once: on Python 3.11 reading `Outcome.ALLOWED`
# from the class goes through a descriptor and costs about five times a global read.
_ALLOWED = Outcome.ALLOWED
_IMPLICIT_DENY = Outcome.IMPLICIT_DENY
_EXPLICIT_DENY = Outcome.EXPLICIT_DENY
_SCP = Gate.SCP
_RCP = Gate.RCP
_RESOURCE = Gate.RESOURCE
_IDENTITY = Gate.IDENTITY
_BOUNDARY = Gate.BOUNDARY
_SESSION = Gate.SESSION
_ANONYMOUS = PrincipalType.ANONYMOUS
_SERVICE = PrincipalType.SERVICE
_ROOT = PrincipalType.ROOT
_DIRECT = PrincipalMatch.DIRECT
_EVERYONE = PrincipalMatch.EVERYONE
_ROLE_MATCH = PrincipalMatch.ROLE
_DENY_REASON = {gate: f"explicit deny in the {gate.value} policy" for gate in Gate}


def _explicit_deny(denied: list[tuple[CompiledStatement, int]]) -> Decision:
    """`_decide`'s first rule for the fast path: the first gate in `_DENY_ORDER` with a
    matching Deny decides, with its Deny statements in plan order."""
    if len(denied) == 1:
        statement, slot = denied[0]
        gate = _RESOURCE if slot < 0 else _GATE_OF_SLOT[slot & 7]
        return Decision(_EXPLICIT_DENY, gate, (statement.ref,), (), _DENY_REASON[gate])
    gates = [_RESOURCE if slot < 0 else _GATE_OF_SLOT[slot & 7] for _, slot in denied]
    gate = min(gates, key=_DENY_ORDER.index)
    return Decision(
        _EXPLICIT_DENY,
        gate,
        tuple([s.ref for (s, _), g in zip(denied, gates, strict=True) if g is gate]),
        (),
        _DENY_REASON[gate],
    )


def _decide_complete(
    allowed: dict[int, StatementRef],
    granted: list[tuple[StatementRef, PrincipalMatch | None]],
    who: PrincipalIdentity,
    request: Request,
    compiled: CompiledPolicySet,
    scp_levels: int,
    rcp_levels: int,
) -> Decision:
    """`_decide` for the fast path, where no Deny matched and each gate and organisation
    level holds at most one matching Allow: the same rules, in the same order, with the
    same statement references and reasons."""
    # 2. Organisation gates: every level must allow.
    org: tuple[StatementRef, ...] = ()
    get = allowed.get
    if rcp_levels or scp_levels:
        for depth in range(rcp_levels):
            ref = get(depth * 8 + _SLOT_RCP)
            if ref is None:
                return _no_org_allow(_RCP, depth)
            org += (ref,)
        for depth in range(scp_levels):
            ref = get(depth * 8 + _SLOT_SCP)
            if ref is None:
                return _no_org_allow(_SCP, depth)
            org += (ref,)
    identity_ref = get(_SLOT_IDENTITY)
    identity = (identity_ref,) if identity_ref is not None else ()
    caps: tuple[StatementRef, ...] = ()
    boundary_ok = session_ok = True
    if compiled.boundary is not None:
        boundary_ref = get(_SLOT_BOUNDARY)
        if boundary_ref is None:
            boundary_ok = False
        else:
            caps = (boundary_ref,)
    if compiled.session is not None:
        session_ref = get(_SLOT_SESSION)
        if session_ref is None:
            session_ok = False
        else:
            caps += (session_ref,)
    kind = who.type
    same_account = False
    if kind is not _ANONYMOUS and kind is not _SERVICE:
        resource_account = request.owner or who.account
        same_account = who.account is not None and who.account == resource_account
    return _grant_decision(
        kind, same_account, identity, caps, boundary_ok, session_ok, org, granted
    )


def _no_org_allow(gate: Gate, depth: int) -> Decision:
    return Decision(
        Outcome.IMPLICIT_DENY,
        gate,
        (),
        (),
        f"no {gate.value.upper()} at organisation level {depth + 1} allows the request",
    )


def evaluate_general(compiled: CompiledPolicySet, request: Request) -> Decision:
    """Decide one request with three-valued statement matches (any context)."""
    who = parse_principal(request.principal)
    action = request.action_key
    service = action.split(":", 1)[0]
    context = request.context  # keys already lower-cased by Request
    unknown: frozenset[str] | None = request.unknown_keys if request.context_complete else None
    resource_account = request.owner or who.account
    same_account = who.account is not None and who.account == resource_account
    scps_apply = bool(compiled.scps) and _scps_apply(who)
    rcps_apply = bool(compiled.rcps) and _rcps_apply(who, service)
    has_boundary = compiled.boundary is not None

    hits: list[_Hit] = []
    resource = request.resource
    undecided_seen = False
    definite_deny = False
    # Gates (and organisation levels) that already have an unconditional Allow: further
    # Allows there change neither the outcome nor the gate that decides. The resource gate
    # is kept whole because how its statements name the principal matters.
    satisfied: set[tuple[Gate, int]] = set()
    for gate, level, statement in compiled.plan(action):  # Deny statements come first
        if not statement.deny:
            if definite_deny:
                break
            if (gate, level) in satisfied:
                continue
        principal = None
        if gate is Gate.SCP:
            if not scps_apply:
                continue
        elif gate is Gate.RCP:
            if not rcps_apply:
                continue
            principal = statement.principal_match(who, has_boundary)
            if principal is None:
                continue
        elif gate is Gate.RESOURCE:
            principal = statement.principal_match(who, has_boundary)
            if principal is None:
                continue
        value = statement.resource_matches(resource, context, unknown)
        if value is False:
            continue
        conditions = statement.conditions_match(context, unknown)
        if conditions is False:
            continue
        if value is True and conditions is True:
            hits.append(_Hit(statement, True, principal, gate, level))
            if statement.deny:
                definite_deny = True
            elif gate is not Gate.RESOURCE:
                satisfied.add((gate, level))
        else:
            undecided_seen = True
            keys = (value if isinstance(value, frozenset) else frozenset()) | (
                conditions if isinstance(conditions, frozenset) else frozenset()
            )
            hits.append(_Hit(statement, keys, principal, gate, level))

    facts = _Facts(
        who=who,
        same_account=same_account,
        has_boundary=has_boundary,
        has_session=compiled.session is not None,
        has_resource_policy=compiled.resource is not None,
        scp_levels=len(compiled.scps) if scps_apply else 0,
        rcp_levels=len(compiled.rcps) if rcps_apply else 0,
    )
    if not undecided_seen:
        return _decide(hits, facts)
    undecided = [hit for hit in hits if hit.value is not True]
    deciding: set[str] = set()
    for hit in undecided:
        if isinstance(hit.value, frozenset):
            deciding |= hit.value
    deciding_keys = tuple(sorted(deciding))
    if len(undecided) > MAX_UNDECIDED:
        return Decision(
            Outcome.CONDITIONAL, None, (), deciding_keys, "too many undecided statements"
        )
    outcomes: dict[Outcome, Decision] = {}
    for bits in product((False, True), repeat=len(undecided)):
        chosen = {id(hit) for hit, bit in zip(undecided, bits, strict=True) if bit}
        decision = _decide([h for h in hits if h.value is True or id(h) in chosen], facts)
        outcomes.setdefault(decision.outcome, decision)
        if len(outcomes) > 1:
            break
    if len(outcomes) == 1:
        return next(iter(outcomes.values()))
    return Decision(
        Outcome.CONDITIONAL,
        None,
        tuple(hit.statement.ref for hit in undecided),
        deciding_keys,
        "the answer depends on condition keys whose values are unknown",
    )


#: `_caller` results by principal text (a dict: cheaper to consult than an `lru_cache`).
_CALLERS: dict[str, tuple[PrincipalIdentity, bool, bool]] = {}


def _caller(principal: str) -> tuple[PrincipalIdentity, bool, bool]:
    """The parsed principal, whether SCPs apply to it, and whether RCPs do (for the
    services RCPs cover): the same for every request the principal makes."""
    who = parse_principal(principal)
    found = (who, _scps_apply(who), _rcp_subject(who))
    if len(_CALLERS) >= 4096:
        _CALLERS.clear()
    _CALLERS[principal] = found
    return found


def _scps_apply(who: PrincipalIdentity) -> bool:
    """SCPs limit IAM principals of member accounts; not service principals, anonymous
    callers or service-linked roles (AWS Organizations User Guide, "Service control policies")."""
    if who.type in (PrincipalType.SERVICE, PrincipalType.ANONYMOUS):
        return False
    return not who.is_service_linked_role


def _rcps_apply(who: PrincipalIdentity, service: str) -> bool:
    """RCPs apply to the supported services' resources (AWS Organizations User Guide,
    "Resource control policies (RCPs)"), for the callers `_rcp_subject` accepts."""
    return service in RCP_SERVICES and _rcp_subject(who)


def _rcp_subject(who: PrincipalIdentity) -> bool:
    """RCPs do not restrict requests by AWS service principals or service-linked roles
    (same guide, "Resources and entities not restricted by RCPs")."""
    if who.type is PrincipalType.SERVICE:
        return False
    return not who.is_service_linked_role


@dataclass(frozen=True, slots=True)
class _Facts:
    who: PrincipalIdentity
    same_account: bool
    has_boundary: bool
    has_session: bool
    has_resource_policy: bool
    scp_levels: int
    rcp_levels: int


def _refs(hits: list[_Hit]) -> tuple[StatementRef, ...]:
    return tuple(h.statement.ref for h in hits)


_DENY_ORDER = (Gate.SCP, Gate.RCP, Gate.RESOURCE, Gate.IDENTITY, Gate.BOUNDARY, Gate.SESSION)


def _decide(active: list[_Hit], facts: _Facts) -> Decision:
    """The boolean decision from the statements that match (every value known)."""
    # 1. Explicit deny anywhere.
    denies = [h for h in active if h.statement.deny]
    if denies:
        gate = min((h.gate for h in denies), key=_DENY_ORDER.index)
        return Decision(
            Outcome.EXPLICIT_DENY,
            gate,
            _refs([h for h in denies if h.gate is gate]),
            (),
            f"explicit deny in the {gate.value} policy",
        )
    by_gate: dict[Gate, list[_Hit]] = {}
    for hit in active:
        by_gate.setdefault(hit.gate, []).append(hit)
    # 2. Organisation gates: every level must allow.
    org: list[_Hit] = []
    for gate, count in ((Gate.RCP, facts.rcp_levels), (Gate.SCP, facts.scp_levels)):
        if not count:
            continue
        allowed_levels = {h.level for h in by_gate.get(gate, ())}
        for depth in range(count):
            if depth not in allowed_levels:
                return Decision(
                    Outcome.IMPLICIT_DENY,
                    gate,
                    (),
                    (),
                    f"no {gate.value.upper()} at organisation level {depth + 1} allows the request",
                )
        org += by_gate.get(gate, ())
    org_refs = _refs(org)
    identity = by_gate.get(Gate.IDENTITY, [])
    boundary = by_gate.get(Gate.BOUNDARY, [])
    session = by_gate.get(Gate.SESSION, [])
    resource = by_gate.get(Gate.RESOURCE, [])
    boundary_ok = not facts.has_boundary or bool(boundary)
    session_ok = not facts.has_session or bool(session)
    caps = _refs(boundary) + _refs(session)
    return _grant_decision(
        facts.who.type,
        facts.same_account,
        _refs(identity),
        caps,
        boundary_ok,
        session_ok,
        org_refs,
        [(h.statement.ref, h.principal) for h in resource],
    )


def _grant_decision(
    kind: PrincipalType,
    same_account: bool,
    identity: tuple[StatementRef, ...],
    caps: tuple[StatementRef, ...],
    boundary_ok: bool,
    session_ok: bool,
    org: tuple[StatementRef, ...],
    granted: Sequence[tuple[StatementRef, PrincipalMatch | None]],
) -> Decision:
    """Steps 3 and 4 of the evaluation, shared by both paths once no Deny matched and every
    organisation level allows: the Allows of the identity side (`identity`, capped by the
    boundary and session policy, `caps`) and of the resource policy (`granted`, with how
    each statement names the requester)."""
    identity_ok = identity != () and boundary_ok and session_ok
    resource = tuple([ref for ref, _ in granted]) if granted else ()

    if kind is _ANONYMOUS or kind is _SERVICE:
        # No identity policies exist for these callers: only the resource policy can allow.
        if resource:
            return Decision(
                _ALLOWED, _RESOURCE, resource + org, (), "allowed by the resource policy"
            )
        return Decision(
            _IMPLICIT_DENY,
            _RESOURCE,
            (),
            (),
            "no resource policy statement allows this caller",
        )

    if kind is _ROOT:
        # The account root user has full access to its own account's resources; only
        # explicit denies and organisation policies (checked above) limit it (IAM User
        # Guide, "How AWS enforcement code logic evaluates requests").
        if same_account:
            return Decision(_ALLOWED, None, org, (), "the account root user has full access")
        if resource:
            return Decision(
                _ALLOWED,
                _RESOURCE,
                resource + org,
                (),
                "allowed by the other account's resource policy",
            )
        return Decision(
            _IMPLICIT_DENY,
            _RESOURCE,
            (),
            (),
            "cross-account request: the resource policy of the other account must allow it",
        )

    if same_account:
        if identity_ok:
            return Decision(
                _ALLOWED,
                _IDENTITY,
                identity + caps + org,
                (),
                "allowed by an identity policy",
            )
        # A statement that names the requester itself, or everyone (`"*"` matches the
        # session principal directly, as it matches an anonymous caller), is not capped by
        # an implicit deny in the boundary or session policy; one naming the role ARN is.
        direct = tuple(
            [ref for ref, principal in granted if principal is _DIRECT or principal is _EVERYONE]
        )
        if direct:
            return Decision(
                _ALLOWED,
                _RESOURCE,
                direct + org,
                (),
                "allowed by the resource policy, which names this exact principal",
            )
        capped = tuple([ref for ref, principal in granted if principal is _ROLE_MATCH])
        if capped and boundary_ok and session_ok:
            return Decision(
                _ALLOWED,
                _RESOURCE,
                capped + caps + org,
                (),
                "allowed by the resource policy",
            )
        if identity or capped:
            gate = _BOUNDARY if not boundary_ok else _SESSION
            return Decision(
                _IMPLICIT_DENY,
                gate,
                identity + capped,
                (),
                f"allowed, but the {gate.value} policy does not allow it",
            )
        return Decision(
            _IMPLICIT_DENY, _IDENTITY, (), (), "no identity or resource policy allows it"
        )

    # Cross-account: both sides must allow.
    if not identity:
        return Decision(
            _IMPLICIT_DENY,
            _IDENTITY,
            (),
            (),
            "no identity policy allows the cross-account request",
        )
    if not boundary_ok or not session_ok:
        gate = _BOUNDARY if not boundary_ok else _SESSION
        return Decision(
            _IMPLICIT_DENY,
            gate,
            identity,
            (),
            f"allowed, but the {gate.value} policy does not allow it",
        )
    if not resource:
        return Decision(
            _IMPLICIT_DENY,
            _RESOURCE,
            identity,
            (),
            "cross-account request: the resource policy of the other account must allow it too",
        )
    return Decision(
        _ALLOWED,
        _RESOURCE,
        identity + caps + resource + org,
        (),
        "allowed by the identity policy and the other account's resource policy",
    )

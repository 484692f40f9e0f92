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

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import product

from policyeval.compiler.arn import (
    PrincipalIdentity,
    PrincipalMatch,
    PrincipalType,
    account_of,
    parse_principal,
)
from policyeval.compiler.compiled import CompiledPolicy, CompiledPolicySet, CompiledStatement
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
    principal: PrincipalMatch | None = None


@dataclass(slots=True)
class _Gathered:
    deny: dict[Gate, list[_Hit]]
    allow_identity: list[_Hit]
    allow_boundary: list[_Hit]
    allow_session: list[_Hit]
    allow_resource: list[_Hit]
    scp_levels: list[list[_Hit]]
    rcp_levels: list[list[_Hit]]


def evaluate(compiled: CompiledPolicySet, request: Request) -> Decision:
    """Decide one request against a compiled policy set, with an explanation."""
    who = parse_principal(request.principal)
    action = request.action.lower()
    service = action.split(":", 1)[0]
    context = _normalise_context(request.context)
    unknown: frozenset[str] | None = (
        frozenset(k.lower() for k in request.unknown_keys) if request.context_complete else None
    )
    resource_account = request.resource_account or account_of(request.resource) or who.account
    same_account = who.account is not None and who.account == resource_account
    scps_apply = bool(compiled.scps) and _scps_apply(who)
    rcps_apply = bool(compiled.rcps) and _rcps_apply(who, service)
    has_boundary = compiled.boundary is not None

    def hits(policy: CompiledPolicy | None, resource_side: bool) -> list[_Hit]:
        found: list[_Hit] = []
        if policy is None:
            return found
        for statement in policy.candidates(service):
            if not statement.action_matches(action):
                continue
            principal = None
            if resource_side:
                principal = statement.principal_match(who, has_boundary)
                if principal is None:
                    continue
            value = statement.resource_matches(request.resource, context, unknown)
            if value is False:
                continue
            conditions = statement.conditions_match(context, unknown)
            if conditions is False:
                continue
            if isinstance(value, frozenset) or isinstance(conditions, frozenset):
                keys = (value if isinstance(value, frozenset) else frozenset()) | (
                    conditions if isinstance(conditions, frozenset) else frozenset()
                )
                found.append(_Hit(statement, keys, principal))
            else:
                found.append(_Hit(statement, True, principal))
        return found

    gathered = _Gathered(
        deny={gate: [] for gate in Gate},
        allow_identity=[],
        allow_boundary=[],
        allow_session=[],
        allow_resource=[],
        scp_levels=[],
        rcp_levels=[],
    )

    def split(found: list[_Hit], gate: Gate) -> list[_Hit]:
        allows = []
        for hit in found:
            if hit.statement.deny:
                gathered.deny[gate].append(hit)
            else:
                allows.append(hit)
        return allows

    for policy in compiled.identity:
        gathered.allow_identity += split(hits(policy, False), Gate.IDENTITY)
    gathered.allow_boundary = split(hits(compiled.boundary, False), Gate.BOUNDARY)
    gathered.allow_session = split(hits(compiled.session, False), Gate.SESSION)
    gathered.allow_resource = split(hits(compiled.resource, True), Gate.RESOURCE)
    if scps_apply:
        for level in compiled.scps:
            allows: list[_Hit] = []
            for policy in level:
                allows += split(hits(policy, False), Gate.SCP)
            gathered.scp_levels.append(allows)
    if rcps_apply:
        for level in compiled.rcps:
            allows = []
            for policy in level:
                allows += split(hits(policy, True), Gate.RCP)
            gathered.rcp_levels.append(allows)

    facts = _Facts(
        who=who,
        same_account=same_account,
        has_boundary=has_boundary,
        has_session=compiled.session is not None,
        has_resource_policy=compiled.resource is not None,
    )
    undecided = _undecided(gathered)
    if not undecided:
        return _decide(gathered, facts, {})
    keys = sorted(
        set().union(*(hit.value for hit in undecided if isinstance(hit.value, frozenset)))
    )
    if len(undecided) > MAX_UNDECIDED:
        return Decision(Outcome.CONDITIONAL, None, (), tuple(keys), "too many undecided statements")
    outcomes: dict[Outcome, Decision] = {}
    for bits in product((False, True), repeat=len(undecided)):
        assignment = {id(hit): bit for hit, bit in zip(undecided, bits, strict=True)}
        decision = _decide(gathered, facts, assignment)
        outcomes.setdefault(decision.outcome, decision)
        if len(outcomes) > 1:
            break
    if len(outcomes) == 1:
        return next(iter(outcomes.values()))
    return Decision(
        Outcome.CONDITIONAL,
        None,
        tuple(hit.statement.ref for hit in undecided),
        tuple(keys),
        "the answer depends on condition keys whose values are unknown",
    )


def _normalise_context(context: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for key, values in context.items():
        if isinstance(values, str):
            out[key.lower()] = (values,)
        else:
            out[key.lower()] = tuple(values)
    return out


def _scps_apply(who: PrincipalIdentity) -> bool:
    """SCPs limit IAM principals of member accounts; not service principals, anonymous
    callers or service-linked roles (AWS Organizations User Guide, "Service control policies")."""
    if who.type in (PrincipalType.SERVICE, PrincipalType.ANONYMOUS):
        return False
    return not who.is_service_linked_role


def _rcps_apply(who: PrincipalIdentity, service: str) -> bool:
    """RCPs apply to the supported services' resources, except for requests by AWS service
    principals and service-linked roles (AWS Organizations User Guide, "Resource control
    policies (RCPs)", "Resources and entities not restricted by RCPs")."""
    if service not in RCP_SERVICES:
        return False
    if who.type is PrincipalType.SERVICE:
        return False
    return not who.is_service_linked_role


def _undecided(g: _Gathered) -> list[_Hit]:
    out: list[_Hit] = []
    groups: list[list[_Hit]] = [
        *g.deny.values(),
        g.allow_identity,
        g.allow_boundary,
        g.allow_session,
        g.allow_resource,
        *g.scp_levels,
        *g.rcp_levels,
    ]
    for group in groups:
        out.extend(hit for hit in group if isinstance(hit.value, frozenset))
    return out


@dataclass(frozen=True, slots=True)
class _Facts:
    who: PrincipalIdentity
    same_account: bool
    has_boundary: bool
    has_session: bool
    has_resource_policy: bool


def _on(hits: list[_Hit], assignment: dict[int, bool]) -> list[_Hit]:
    return [
        h
        for h in hits
        if (h.value is True) or (h.value is not False and assignment.get(id(h), False))
    ]


def _refs(hits: list[_Hit]) -> tuple[StatementRef, ...]:
    return tuple(h.statement.ref for h in hits)


_DENY_ORDER = (Gate.SCP, Gate.RCP, Gate.RESOURCE, Gate.IDENTITY, Gate.BOUNDARY, Gate.SESSION)


def _decide(g: _Gathered, facts: _Facts, assignment: dict[int, bool]) -> Decision:
    """The boolean decision once every statement's match is known."""
    # 1. Explicit deny anywhere.
    for gate in _DENY_ORDER:
        denies = _on(g.deny[gate], assignment)
        if denies:
            return Decision(
                Outcome.EXPLICIT_DENY,
                gate,
                _refs(denies),
                (),
                f"explicit deny in the {gate.value} policy",
            )
    # 2. Organisation gates: every level must allow.
    for gate, levels in ((Gate.RCP, g.rcp_levels), (Gate.SCP, g.scp_levels)):
        for depth, level in enumerate(levels):
            if not _on(level, assignment):
                return Decision(
                    Outcome.IMPLICIT_DENY,
                    gate,
                    (),
                    (),
                    f"no {gate.value.upper()} at organisation level {depth + 1} allows the request",
                )
    org_refs: tuple[StatementRef, ...] = ()
    for level in (*g.scp_levels, *g.rcp_levels):
        org_refs += _refs(_on(level, assignment))

    identity = _on(g.allow_identity, assignment)
    boundary_ok = not facts.has_boundary or bool(_on(g.allow_boundary, assignment))
    session_ok = not facts.has_session or bool(_on(g.allow_session, assignment))
    resource = _on(g.allow_resource, assignment)
    caps = _refs(_on(g.allow_boundary, assignment)) + _refs(_on(g.allow_session, assignment))
    identity_ok = bool(identity) and boundary_ok and session_ok

    if facts.who.type is PrincipalType.ANONYMOUS or facts.who.type is PrincipalType.SERVICE:
        # No identity policies exist for these callers: only the resource policy can allow.
        if resource:
            return Decision(
                Outcome.ALLOWED,
                Gate.RESOURCE,
                _refs(resource) + org_refs,
                (),
                "allowed by the resource policy",
            )
        return Decision(
            Outcome.IMPLICIT_DENY,
            Gate.RESOURCE,
            (),
            (),
            "no resource policy statement allows this caller",
        )

    if facts.same_account:
        if identity_ok:
            return Decision(
                Outcome.ALLOWED,
                Gate.IDENTITY,
                _refs(identity) + caps + org_refs,
                (),
                "allowed by an identity policy",
            )
        direct = [h for h in resource if h.principal is PrincipalMatch.DIRECT]
        if direct:
            return Decision(
                Outcome.ALLOWED,
                Gate.RESOURCE,
                _refs(direct) + org_refs,
                (),
                "allowed by the resource policy, which names this exact principal",
            )
        capped = [
            h for h in resource if h.principal in (PrincipalMatch.ROLE, PrincipalMatch.EVERYONE)
        ]
        if capped and boundary_ok and session_ok:
            return Decision(
                Outcome.ALLOWED,
                Gate.RESOURCE,
                _refs(capped) + caps + org_refs,
                (),
                "allowed by the resource policy",
            )
        if identity or capped:
            gate = Gate.BOUNDARY if not boundary_ok else Gate.SESSION
            return Decision(
                Outcome.IMPLICIT_DENY,
                gate,
                _refs(identity) + _refs(capped),
                (),
                f"allowed, but the {gate.value} policy does not allow it",
            )
        return Decision(
            Outcome.IMPLICIT_DENY, Gate.IDENTITY, (), (), "no identity or resource policy allows it"
        )

    # Cross-account: both sides must allow.
    if not identity:
        return Decision(
            Outcome.IMPLICIT_DENY,
            Gate.IDENTITY,
            (),
            (),
            "no identity policy allows the cross-account request",
        )
    if not boundary_ok or not session_ok:
        gate = Gate.BOUNDARY if not boundary_ok else Gate.SESSION
        return Decision(
            Outcome.IMPLICIT_DENY,
            gate,
            _refs(identity),
            (),
            f"allowed, but the {gate.value} policy does not allow it",
        )
    if not resource:
        return Decision(
            Outcome.IMPLICIT_DENY,
            Gate.RESOURCE,
            _refs(identity),
            (),
            "cross-account request: the resource policy of the other account must allow it too",
        )
    return Decision(
        Outcome.ALLOWED,
        Gate.RESOURCE,
        _refs(identity) + caps + _refs(resource) + org_refs,
        (),
        "allowed by the identity policy and the other account's resource policy",
    )

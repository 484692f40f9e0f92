"""PE1xx: rules about what a policy or role grants, whoever holds it.

The statements of a role only suggest what to ask; the evaluator decides. Every grant is
checked with a request on a probe resource (an ARN of the action's kind that no specific
pattern names), with the request context unknown: a grant that a Deny, a boundary or an
SCP removes is not reported, and one that depends on a condition comes back CONDITIONAL
and is not reported as unconditional.
"""

from __future__ import annotations

from collections.abc import Iterator

from policyeval.audit.engine import AuditContext
from policyeval.audit.registry import Finding, rule
from policyeval.errors import Severity, Span
from policyeval.model.policy import Effect, Policy, Statement
from policyeval.model.topology import Role

IAM_EVAL = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"
)
RHINO = "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/"
#: How spans of the bundled AWS managed policies name their file (`policyeval.managed`).
BUNDLED = "aws-managed/"


def _statements(policy: Policy) -> Iterator[Statement]:
    yield from policy.statements


def _allow_statements(ctx: AuditContext, role: Role) -> Iterator[tuple[Policy, Statement]]:
    for policy, _ in ctx.attached(role):
        for st in policy.statements:
            if st.effect is Effect.ALLOW:
                yield policy, st


def _granting_spans(decision: object) -> tuple[Span, ...]:
    matched = getattr(decision, "matched", ())
    return tuple(
        m.span
        for m in matched
        if m.span is not None and str(getattr(m, "effect", "")).lower() == "allow"
    )


def _where(role: Role, spans: tuple[Span, ...]) -> Span | None:
    return spans[0] if spans else role.span


def _is_allowed(ctx: AuditContext, role: Role, action: str) -> tuple[bool, tuple[Span, ...]]:
    """Allowed on the probe resource, by a statement the user wrote.

    Grants that come only from AWS managed policies are left to PE301 (host roles beyond
    their baseline): the user cannot edit those documents, only choose to attach them.
    """
    if not ctx.mentions(role, action):
        return False, ()
    decision = ctx.allowed(role, action)
    if not decision.allowed:
        return False, ()
    spans = _granting_spans(decision)
    if spans and all(s.path.startswith(BUNDLED) for s in spans):
        return False, ()
    return True, spans


def _allowed_among(
    ctx: AuditContext, role: Role, actions: tuple[str, ...]
) -> tuple[list[str], tuple[Span, ...]]:
    """The actions of `actions` the role may do on any resource, and the granting spans."""
    found: list[str] = []
    spans: dict[Span, None] = {}
    for action in actions:
        ok, where = _is_allowed(ctx, role, action)
        if ok:
            found.append(action)
            spans.update(dict.fromkeys(where))
    return found, tuple(spans)


def is_full_admin(ctx: AuditContext, role: Role) -> bool:
    """Does the evaluator allow the role an action of a service nobody grants by name?"""
    if not ctx.mentions(role, "policyevalprobe:AnyAction"):
        return False
    return ctx.decide(role, "policyevalprobe:AnyAction", "*").allowed


def _listed(actions: list[str], limit: int = 6) -> str:
    shown = ", ".join(f"`{a}`" for a in actions[:limit])
    return shown + (f" and {len(actions) - limit} more" if len(actions) > limit else "")


# -- PE101 ---------------------------------------------------------------------------------


@rule(
    code="PE101",
    name="full-admin-access",
    severity=Severity.CRITICAL,
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html",
    ),
)
def full_admin(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    A role or policy that allows every action of every service (`*:*`), or every action
    of one service (`service:*`) on every resource, without a condition.

    Why it matters:
    Whoever holds the credentials can do anything the account can do, including granting
    themselves more. A `service:*` grant also covers actions the service adds later.

    Example:
    policy app { allow * on * }
    policy app-s3 { allow s3:* on * }

    Fix:
    Grant the actions the workload calls, on the resources it uses. Run
    `policyeval effective` and the needs check (PE203) to find them.
    """
    for role, pseudo in ctx.principals:
        label = ctx.subject_label(role, pseudo)
        admin = is_full_admin(ctx, role)
        if admin:
            decision = ctx.decide(role, "policyevalprobe:AnyAction", "*")
            spans = _granting_spans(decision)
            star = any("*" in (st.action or ()) for _, st in _allow_statements(ctx, role))
            what = "every action" if star else "every action outside a `NotAction` list"
            yield Finding(
                code="PE101",
                severity=Severity.CRITICAL,
                message=f"{label} allows {what} on every resource",
                subject=role.name,
                span=_where(role, spans),
                statements=spans,
                help="grant only the actions the workload needs",
                key="*:*",
            )
        if admin:
            continue
        services: dict[str, None] = {}
        for _, st in _allow_statements(ctx, role):
            for pattern in st.action or ():
                service, _, name = pattern.partition(":")
                if name == "*" and service and "*" not in service and "?" not in service:
                    services[service.lower()] = None
        for service in services:
            probe_action = f"{service}:PolicyevalProbeAction"
            decision = ctx.decide(role, probe_action, ctx.probe(f"{service}:x"))
            if decision.allowed:
                spans = _granting_spans(decision)
                yield Finding(
                    code="PE101",
                    severity=Severity.HIGH,
                    message=f"{label} allows every `{service}` action (`{service}:*`)",
                    subject=role.name,
                    span=_where(role, spans),
                    statements=spans,
                    help=f"list the `{service}` actions the workload calls, not `{service}:*`",
                    key=f"{service}:*",
                )


# -- PE102 ---------------------------------------------------------------------------------

#: IAM actions that let a principal raise its own privileges (Rhino Security Labs' list;
#: IAM API reference for each action).
IAM_ESCALATION = (
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:AddUserToGroup",
)

#: Actions that take over an existing role's code or host without passing a role.
TAKEOVER = (
    "lambda:UpdateFunctionCode",
    "ecs:ExecuteCommand",
    "ssm:SendCommand",
    "ssm:StartSession",
)

#: Services to which a passed role gives the caller its permissions, with the actions that
#: complete the path (any one of the alternatives; each alternative needs all its actions).
PASSROLE_COMBOS: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = (
    ("ec2", (("ec2:RunInstances",),)),
    ("ecs", (("ecs:RunTask",), ("ecs:StartTask",), ("ecs:CreateService",), ("ecs:UpdateService",))),
    (
        "lambda",
        (
            ("lambda:CreateFunction", "lambda:InvokeFunction"),
            ("lambda:CreateFunction", "lambda:AddPermission"),
            ("lambda:CreateFunction", "lambda:CreateEventSourceMapping"),
        ),
    ),
    ("cloudformation", (("cloudformation:CreateStack",),)),
    (
        "glue",
        (
            ("glue:CreateDevEndpoint",),
            ("glue:CreateJob", "glue:StartJobRun"),
            ("glue:UpdateJob", "glue:StartJobRun"),
        ),
    ),
    ("codebuild", (("codebuild:CreateProject", "codebuild:StartBuild"),)),
    (
        "sagemaker",
        (
            ("sagemaker:CreateNotebookInstance",),
            ("sagemaker:CreateTrainingJob",),
            ("sagemaker:CreateProcessingJob",),
        ),
    ),
)


@rule(
    code="PE102",
    name="privilege-escalation",
    severity=Severity.HIGH,
    references=(
        RHINO,
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_PassedToService",
    ),
)
def privilege_escalation(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    A role or policy that can raise its own privileges: IAM write actions such as
    `iam:CreatePolicyVersion`, `iam:AttachRolePolicy` or `iam:CreateAccessKey` on any
    resource; `iam:PassRole` on every role without an `iam:PassedToService` condition,
    together with an action that hands the role to compute it controls (`ecs:RunTask`,
    `ec2:RunInstances`, `lambda:CreateFunction` …); or actions that take over code that
    already runs with another role (`lambda:UpdateFunctionCode`, `ecs:ExecuteCommand`,
    `ssm:SendCommand`, `ssm:StartSession`).

    Why it matters:
    Each path ends with the holder acting with permissions it was never granted; a task
    role with one of them is as powerful as the most powerful role in the account.

    Example:
    policy deployer {
      allow iam:PassRole on *
      allow ecs:RegisterTaskDefinition, ecs:RunTask on *
    }

    Fix:
    Scope `iam:PassRole` to the role ARNs the workload must pass, with
    `StringEquals iam:PassedToService` naming the service; remove IAM write actions from
    workload roles.
    """
    for role, pseudo in ctx.principals:
        if is_full_admin(ctx, role):
            continue  # PE101 already says everything
        label = ctx.subject_label(role, pseudo)
        found, spans = _allowed_among(ctx, role, IAM_ESCALATION)
        if found:
            yield Finding(
                code="PE102",
                severity=Severity.HIGH,
                message=f"{label} can escalate privileges with {_listed(found)} on any resource",
                subject=role.name,
                span=_where(role, spans),
                statements=spans,
                help="remove IAM write actions from workload roles or scope them to ARNs",
                notes=(f"actions: {', '.join(found)}",),
                key="iam-write",
            )
        pass_ok, pass_spans = _is_allowed(ctx, role, "iam:PassRole")
        if pass_ok:
            enablers = []
            for _service, alternatives in PASSROLE_COMBOS:
                for combo in alternatives:
                    if all(_is_allowed(ctx, role, a)[0] for a in combo):
                        enablers.append(" + ".join(f"`{a}`" for a in combo))
            with_what = f" with {', '.join(enablers)}" if enablers else ""
            severity = Severity.HIGH if enablers else Severity.MEDIUM
            yield Finding(
                code="PE102",
                severity=severity,
                message=(
                    f"{label} allows `iam:PassRole` on every role without "
                    f"`iam:PassedToService`{with_what}"
                ),
                subject=role.name,
                span=_where(role, pass_spans),
                statements=pass_spans,
                help=(
                    "scope `iam:PassRole` to the roles it must pass and add "
                    "`StringEquals iam:PassedToService`"
                ),
                key="iam:PassRole",
            )
        found, spans = _allowed_among(ctx, role, TAKEOVER)
        if found:
            yield Finding(
                code="PE102",
                severity=Severity.HIGH,
                message=(
                    f"{label} allows {_listed(found)} on any resource: it can run code as other "
                    "workloads and use their roles"
                ),
                subject=role.name,
                span=_where(role, spans),
                statements=spans,
                help="scope them to the resources this principal administers",
                notes=(f"actions: {', '.join(found)}",),
                key="takeover",
            )


# -- PE103 ---------------------------------------------------------------------------------

#: Read actions that move data out, and actions that open a resource to others.
EXFILTRATION = (
    "s3:GetObject",
    "secretsmanager:GetSecretValue",
    "kms:Decrypt",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "dynamodb:Scan",
)
EXPOSURE = (
    "s3:PutBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutObjectAcl",
    "ec2:ModifySnapshotAttribute",
    "ec2:ModifyImageAttribute",
    "ecr:SetRepositoryPolicy",
    "lambda:AddPermission",
    "kms:PutKeyPolicy",
    "kms:CreateGrant",
    "secretsmanager:PutResourcePolicy",
    "sqs:SetQueueAttributes",
    "sns:SetTopicAttributes",
)


@rule(
    code="PE103",
    name="data-access-on-any-resource",
    severity=Severity.HIGH,
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html",
    ),
)
def data_on_star(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    Data exfiltration actions (`s3:GetObject`, `secretsmanager:GetSecretValue`,
    `kms:Decrypt`, `ssm:GetParameter(s)` …) and resource exposure actions
    (`s3:PutBucketPolicy`, `ec2:ModifySnapshotAttribute`, `lambda:AddPermission` …)
    allowed on every resource of their kind.

    Why it matters:
    Read on `*` turns one compromised workload into access to every secret, key and
    object in the account; exposure actions let it publish them to another account.

    Example:
    policy app { allow secretsmanager:GetSecretValue, kms:Decrypt on * }

    Fix:
    Name the secrets, keys, parameters and buckets the workload reads; drop exposure
    actions from workload roles.
    """
    exec_only = _execution_only_roles(ctx)
    for role, pseudo in ctx.principals:
        if is_full_admin(ctx, role):
            continue  # PE101 already says everything
        label = ctx.subject_label(role, pseudo)
        reads: tuple[str, ...] = EXFILTRATION
        if role.name in exec_only:
            reads = tuple(a for a in reads if a not in SECRET_READS)  # PE207 reports those
        for kind, actions in (("read", reads), ("exposure", EXPOSURE)):
            found, spans = _allowed_among(ctx, role, actions)
            if not found:
                continue
            what = (
                "reads data from any resource of their kind"
                if kind == "read"
                else "can open any resource of their kind to others"
            )
            yield Finding(
                code="PE103",
                severity=Severity.HIGH,
                message=f"{label} allows {_listed(found)} on every resource: it {what}",
                subject=role.name,
                span=_where(role, spans),
                statements=spans,
                help="name the resources instead of `*`",
                notes=(f"actions: {', '.join(found)}",),
                key=kind,
            )


#: Reads that PE207 reports for execution roles.
SECRET_READS = ("secretsmanager:GetSecretValue", "ssm:GetParameters", "kms:Decrypt")


def _execution_only_roles(ctx: AuditContext) -> set[str]:
    uses: dict[str, set[str]] = {}
    for role_name, users in ctx.role_users.items():
        uses[role_name] = {how for _, how, _ in users}
    return {name for name, hows in uses.items() if hows == {"execution-role"}}


# -- PE104 ---------------------------------------------------------------------------------


@rule(
    code="PE104",
    name="allow-with-not-action",
    severity=Severity.MEDIUM,
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html",
    ),
)
def allow_not_action(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    An `Allow` statement written with `NotAction` or `NotResource`.

    Why it matters:
    It allows everything except what it lists, including actions and resources that do
    not exist yet and services nobody thought of. The AWS documentation recommends it
    with Deny, not with Allow.

    Example:
    policy app { allow not iam:* on * }

    Fix:
    List what is allowed with `Action` / `Resource`; use `NotAction` only in Deny
    statements.
    """
    seen: set[int] = set()
    for role, pseudo in ctx.principals:
        for policy, st in _allow_statements(ctx, role):
            if id(st) in seen:
                continue
            seen.add(id(st))
            for element, values in (("NotAction", st.not_action), ("NotResource", st.not_resource)):
                if values is None:
                    continue
                listed = ", ".join(f"`{v}`" for v in values[:4])
                yield Finding(
                    code="PE104",
                    severity=Severity.MEDIUM,
                    message=(
                        f"statement in policy `{policy.name}` allows with `{element}`: everything "
                        f"except {listed}"
                    ),
                    subject=role.name if pseudo else policy.name,
                    span=st.span or policy.span,
                    statements=(st.span,) if st.span else (),
                    help=f"list what is allowed instead of `{element}`",
                    key=f"{policy.name}:{element}:{st.sid or ''}:{','.join(values)}",
                )


# -- PE105 ---------------------------------------------------------------------------------


@rule(
    code="PE105",
    name="unknown-action",
    severity=Severity.LOW,
    references=(
        "https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html",
    ),
)
def unknown_action(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    An action or action pattern that names no action in the IAM action catalog: a
    misspelt action, an unknown service prefix, or a wildcard that matches nothing.

    Why it matters:
    IAM accepts the policy and the statement silently does nothing (in an Allow) or
    protects nothing (in a Deny). The catalog may be older than a brand-new action, so
    check the Service Authorization Reference before changing a recent one.

    Example:
    policy app { allow s3:GetObjects on "arn:aws:s3:::assets/*" }

    Fix:
    Correct the spelling; `policyeval effective` shows what a pattern expands to.
    """
    catalog = ctx.catalog
    if catalog is None:
        return
    seen: set[tuple[int, str]] = set()
    policies = [p for role, _ in ctx.principals for p, _ in ctx.attached(role)]
    if ctx.workspace.policies:
        policies += list(ctx.workspace.policies)
    for policy in policies:
        for st in policy.statements:
            for pattern in (*(st.action or ()), *(st.not_action or ())):
                if (id(st), pattern) in seen or pattern == "*":
                    continue
                seen.add((id(st), pattern))
                expansion = catalog.expand(pattern)
                if expansion.unknown is None:
                    continue
                yield Finding(
                    code="PE105",
                    severity=Severity.LOW,
                    message=f"{expansion.unknown} (policy `{policy.name}`)",
                    subject=policy.name,
                    span=st.span or policy.span,
                    statements=(st.span,) if st.span else (),
                    help="check the spelling against the Service Authorization Reference",
                    notes=(
                        "the action catalog may be older than a newly released action "
                        f"(catalog {_catalog_version(catalog)})",
                    ),
                    key=pattern.lower(),
                )


def _catalog_version(catalog: object) -> str:
    try:
        return str(catalog.catalog_version())  # type: ignore[attr-defined]
    except Exception:  # the version is a courtesy in a note
        return "unknown version"


# -- PE106 ---------------------------------------------------------------------------------

#: Condition operator family → the key types it can compare (IAM User Guide, "IAM JSON
#: policy elements: Condition operators").
_OPERATOR_TYPES = {
    "string": {"String", "ArrayOfString", "ARN", "ArrayOfARN"},
    "numeric": {"Numeric", "ArrayOfNumeric"},
    "date": {"Date", "ArrayOfDate"},
    "bool": {"Bool", "ArrayOfBool"},
    "binary": {"Binary", "String"},
    "ip": {"IPAddress", "ArrayOfIPAddress"},
    "arn": {"ARN", "ArrayOfARN", "String", "ArrayOfString"},
}


def operator_family(operator: str) -> str | None:
    """`ForAnyValue:StringLikeIfExists` → `string`; None for Null and unknown names."""
    name = operator.split(":", 1)[-1].lower()
    name = name.removesuffix("ifexists")
    for prefix, family in (
        ("string", "string"),
        ("numeric", "numeric"),
        ("date", "date"),
        ("bool", "bool"),
        ("binary", "binary"),
        ("ipaddress", "ip"),
        ("notipaddress", "ip"),
        ("arn", "arn"),
    ):
        if name.startswith(prefix):
            return family
    return None


def condition_key_type(catalog: object, key: str) -> str | None:
    """The catalog's type for a condition key; global keys from its table."""
    finder = getattr(catalog, "condition_key_type", None)
    if finder is not None:
        found = finder(key)
        return str(found) if found else None
    spelled = catalog.global_condition_key(key)  # type: ignore[attr-defined]
    if spelled is None:
        return None
    table: dict[str, str] = catalog.GLOBAL_CONDITION_KEYS  # type: ignore[attr-defined]
    return table.get(spelled)


@rule(
    code="PE106",
    name="condition-operator-type-mismatch",
    severity=Severity.MEDIUM,
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html",
    ),
)
def condition_type_mismatch(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    A condition whose operator does not fit the type of its key, such as
    `NumericEquals` on `aws:SourceIp` or `StringEquals` on `aws:CurrentTime`. Key types
    come from the action catalog and the table of global condition keys.

    Why it matters:
    AWS compares the values as the operator's type: the condition never matches. An
    Allow guarded that way grants nothing; a Deny guarded that way protects nothing.

    Example:
    policy office {
      deny * on * if NumericEquals aws:SourceIp = "10.0.0.0/8"
    }

    Fix:
    Use the operator family of the key's type: `IpAddress` for IP keys, `Date*` for
    dates, `Arn*` or `String*` for ARNs, `Bool` for booleans.
    """
    catalog = ctx.catalog
    if catalog is None:
        return
    seen: set[int] = set()
    policies = [p for role, _ in ctx.principals for p, _ in ctx.attached(role)]
    policies += [r.trust for r in ctx.workspace.roles if r.trust is not None]
    for policy in policies:
        for st in policy.statements:
            for cond in st.condition:
                if id(cond) in seen:
                    continue
                seen.add(id(cond))
                family = operator_family(cond.operator)
                if family is None:
                    continue
                key_type = condition_key_type(catalog, cond.key)
                if key_type is None or key_type in _OPERATOR_TYPES[family]:
                    continue
                effect = "grants nothing" if st.effect is Effect.ALLOW else "never denies"
                yield Finding(
                    code="PE106",
                    severity=Severity.HIGH if st.effect is Effect.DENY else Severity.MEDIUM,
                    message=(
                        f"`{cond.operator}` compares `{cond.key}` (type {key_type}) as {family}: "
                        f"the condition never matches and the statement {effect}"
                    ),
                    subject=policy.name,
                    span=cond.span or st.span or policy.span,
                    statements=(st.span,) if st.span else (),
                    help=f"use an operator for {key_type} values",
                    key=f"{policy.name}:{cond.operator}:{cond.key}",
                )


# -- PE107 ---------------------------------------------------------------------------------

#: Service principals that assume roles on behalf of a customer resource, and the
#: confused-deputy keys AWS documents for them. `ec2.amazonaws.com` is deliberately absent:
#: the keys are not supplied for instance-profile assumption.
CONFUSED_DEPUTY_SERVICES = {
    "ecs-tasks.amazonaws.com": ("aws:SourceAccount", "aws:SourceArn"),
    "pods.eks.amazonaws.com": ("aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID"),
    "eks-fargate-pods.amazonaws.com": ("aws:SourceArn", "aws:SourceAccount"),
}


@rule(
    code="PE107",
    name="trust-without-source-condition",
    severity=Severity.MEDIUM,
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html",
        "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html",
    ),
)
def trust_without_source(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    A trust policy that lets `ecs-tasks.amazonaws.com`, `pods.eks.amazonaws.com` or
    `eks-fargate-pods.amazonaws.com` assume the role without an `aws:SourceAccount` or
    `aws:SourceArn` condition. Trust for `ec2.amazonaws.com` is not flagged: EC2 does
    not supply those keys for instance profiles.

    Why it matters:
    Without them the service can be asked to assume the role on behalf of a resource in
    another account (the confused-deputy problem).

    Example:
    role app { trust service ecs-tasks.amazonaws.com }

    Fix:
    Add `StringEquals aws:SourceAccount = "<account>"` and, for ECS,
    `ArnLike aws:SourceArn = "arn:aws:ecs:<region>:<account>:*"`.
    """
    for role in ctx.workspace.roles:
        if role.trust is None:
            continue
        for st in role.trust.statements:
            if st.effect is not Effect.ALLOW or not st.principal:
                continue
            services = [
                p.value.lower()
                for p in st.principal
                if p.kind == "Service" and p.value.lower() in CONFUSED_DEPUTY_SERVICES
            ]
            keys = {c.key.lower() for c in st.condition}
            for service in services:
                wanted = CONFUSED_DEPUTY_SERVICES[service]
                if any(k.lower() in keys for k in wanted):
                    continue
                yield Finding(
                    code="PE107",
                    severity=Severity.MEDIUM,
                    message=(
                        f"trust policy of role `{role.name}` lets `{service}` assume it without "
                        f"`{wanted[0]}` or `{wanted[1]}`"
                    ),
                    subject=role.name,
                    span=st.span or role.trust.span or role.span,
                    statements=(st.span,) if st.span else (),
                    help=f'add a condition such as StringEquals {wanted[0]} = "{ctx.account}"',
                    key=service,
                )


# -- PE108 ---------------------------------------------------------------------------------

_OTHER_ACCOUNT = "999988887777"


@rule(
    code="PE108",
    name="resource-policy-open",
    severity=Severity.HIGH,
    references=(
        "https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policies.html",
        "https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html",
    ),
)
def resource_policy_open(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    An ECR repository policy or a Lambda function policy that lets anyone (`*`) or a
    principal of another account act on the resource, without a condition that limits
    who (`aws:SourceArn`, `aws:PrincipalOrgID` …).

    Why it matters:
    Anyone in the world, or everyone in that other account, can pull the images (and
    the secrets baked into them), push new ones, or invoke the function.

    Example:
    repository shop { policy { allow ecr:BatchGetImage to * } }

    Fix:
    Name the principals that need access, or add a condition such as
    `StringEquals aws:PrincipalOrgID` or `ArnLike aws:SourceArn`.
    """
    from policyeval.compiler.compiled import PolicySet
    from policyeval.model.policy import Policy as PolicyModel
    from policyeval.model.policy import Statement as StatementModel

    resources: list[tuple[str, str, Policy, str, Span | None]] = []
    for repo in ctx.workspace.repositories:
        if repo.policy is not None:
            arn = f"arn:aws:ecr:us-east-1:{ctx.account}:repository/{repo.name}"
            resources.append(("repository", repo.name, repo.policy, arn, repo.span))
    for fn in ctx.workspace.functions:
        if fn.resource_policy is not None:
            arn = f"arn:aws:lambda:us-east-1:{ctx.account}:function:{fn.name}"
            resources.append(("function", fn.name, fn.resource_policy, arn, fn.span))
    # The outside principal grants itself everything, so only the resource policy decides.
    # It is tried from an arbitrary account and from every other account the policy names.
    allow_all = PolicyModel(
        name="outsider-allows-all",
        statements=(StatementModel(effect=Effect.ALLOW, action=("*",), resource=("*",)),),
    )
    for kind, name, policy, arn, span in resources:
        accounts = {_OTHER_ACCOUNT}
        actions: dict[str, None] = {}
        for st in policy.statements:
            if st.effect is Effect.ALLOW:
                for a in st.action or ():
                    actions[a] = None
                for p in st.principal or ():
                    account = _account_of(p.value) if p.kind == "AWS" else None
                    if account and account != ctx.account:
                        accounts.add(account)
        reported: set[str] = set()
        for account in sorted(accounts):
            outsider = Role(
                name=f"policyeval-outsider-{account}",
                arn=f"arn:aws:iam::{account}:role/policyeval-outsider",
                inline=(allow_all,),
            )
            policy_set = PolicySet(identity=outsider.inline, resource=policy)
            for action in actions:
                if action in reported:
                    continue
                concrete_action = action.replace("*", "PolicyevalProbe").replace("?", "x")
                decision = ctx.decide(outsider, concrete_action, arn, policy_set=policy_set)
                if not decision.allowed:
                    continue
                reported.add(action)
                spans = _granting_spans(decision)
                yield Finding(
                    code="PE108",
                    severity=Severity.HIGH,
                    message=(
                        f"policy of {kind} `{name}` lets principals of other accounts "
                        f"`{action}` without a condition"
                    ),
                    subject=name,
                    span=spans[0] if spans else (policy.span or span),
                    statements=spans,
                    help="name the principals or add an `aws:PrincipalOrgID` condition",
                    key=action,
                )


def _account_of(value: str) -> str | None:
    """The account of an AWS principal: a 12-digit id or the account field of an ARN."""
    if value.isdigit() and len(value) == 12:
        return value
    parts = value.split(":")
    if len(parts) >= 5 and parts[4].isdigit():
        return parts[4]
    return None


RULES = (
    full_admin,
    privilege_escalation,
    data_on_star,
    allow_not_action,
    unknown_action,
    condition_type_mismatch,
    trust_without_source,
    resource_policy_open,
)

"""PE3xx: rules about how workloads, hosts and roles are wired together."""

from __future__ import annotations

from collections.abc import Iterator

from policyeval.audit.engine import AuditContext
from policyeval.audit.registry import Finding, rule
from policyeval.audit.rules_workload import (
    BASELINES,
    _actions_text,
    _count,
    _kind,
    beyond_baseline,
)
from policyeval.errors import Severity


@rule(
    code="PE301",
    name="host-role-beyond-baseline",
    severity=Severity.HIGH,
    references=(
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/instance_IAM_role.html",
        "https://docs.aws.amazon.com/eks/latest/userguide/create-node-role.html",
        "https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html",
    ),
)
def host_beyond_baseline(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    An ECS container instance role (the agent's), an ECS Anywhere host role or an EKS
    node role that allows more than its AWS managed baseline:
    `AmazonEC2ContainerServiceforEC2Role` for ECS hosts; `AmazonEKSWorkerNodePolicy`,
    an ECR read policy and `AmazonEKS_CNI_Policy` for EKS nodes. The comparison is made
    by the evaluator, action by action.

    Why it matters:
    Every container that reaches the instance metadata service gets the host role, so
    whatever is added to it is given to every workload on the host (AmazonEC2RoleforSSM,
    for example, reads and writes every S3 bucket).

    Example:
    role ecs-node {
      trust service ec2.amazonaws.com
      attach aws "AmazonEC2ContainerServiceforEC2Role"
      attach aws "AmazonS3FullAccess"
    }

    Fix:
    Keep host roles at the managed baseline; give the extra permissions to the task
    roles or service-account roles that need them.
    """
    seen: set[tuple[str, str]] = set()
    for w in ctx.workloads:
        if str(w.kind) not in ("agent", "node"):
            continue
        for source in w.credentials:
            kind = _kind(source)
            role = source.resolved
            if kind not in BASELINES or role is None or (role.name, kind) in seen:
                continue
            seen.add((role.name, kind))
            excess = beyond_baseline(ctx, role, kind)
            if not excess:
                continue
            baseline = ", ".join(BASELINES[kind][:2])
            yield Finding(
                code="PE301",
                severity=Severity.HIGH,
                message=(
                    f"host role `{role.name}` of {w.kind} `{w.id}` allows "
                    f"{_count(excess)} beyond its managed baseline "
                    f"({baseline}): {_actions_text(excess)}"
                ),
                workload=str(w.id),
                subject=role.name,
                span=role.span or w.span,
                source=f"{kind} `{source.role}`",
                statements=tuple(dict.fromkeys(s for g in excess for s in g.statements)),
                help="move the extra permissions to the workloads' own roles",
                key=f"{kind}:{role.name}",
            )


@rule(
    code="PE302",
    name="role-shared-by-unrelated-workloads",
    severity=Severity.MEDIUM,
    references=(
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html",
        "https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html",
    ),
)
def shared_role(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    One role used as the own credential of unrelated workloads: task roles of task
    definitions of different families, IRSA or Pod Identity roles of service accounts in
    different namespaces, or one role used by workloads of different kinds.

    Why it matters:
    Each workload then holds the union of everyone's permissions, and compromising one
    exposes the data of all. AWS recommends one role per task definition and per
    application.

    Example:
    task web    { task-role app }
    task worker { task-role app }

    Fix:
    Create one role per application, each with only its own permissions.
    """
    tasks = {t.id: t for t in ctx.workspace.tasks}
    for role_name, users in sorted(ctx.role_users.items()):
        own = [(w, how, span) for w, how, span in users if how != "execution-role"]
        groups: dict[str, list[str]] = {}
        for workload, how, _ in own:
            if how == "task-role":
                group = f"family `{tasks[workload].family}`" if workload in tasks else workload
            elif how in ("irsa", "pod-identity"):
                group = f"namespace `{workload.split('/', 1)[0]}`"
            else:
                group = f"function `{workload}`"
            groups.setdefault(group, []).append(workload)
        if len(groups) < 2:
            continue
        names = sorted(groups)
        span = own[1][2] or own[0][2]
        yield Finding(
            code="PE302",
            severity=Severity.MEDIUM,
            message=(
                f"role `{role_name}` is shared by unrelated workloads: "
                + ", ".join(names[:5])
                + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            ),
            subject=role_name,
            span=span,
            help="create one role per application",
            key=role_name,
        )


RULES = (host_beyond_baseline, shared_role)

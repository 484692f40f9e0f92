"""PE2xx: rules about one workload — what it reaches, what it runs with, what it needs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from policyeval.audit.engine import AuditContext, Grant, action_matches, concrete
from policyeval.audit.registry import Finding, rule
from policyeval.errors import Severity, Span
from policyeval.model.expect import Need
from policyeval.model.topology import Role, Task

TASK_ROLES = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html"
EC2_SECURITY = (
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ec2-security-considerations.html"
)
EKS_IMDS = (
    "https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html"
)
EXEC_ROLE = (
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html"
)

#: Credential sources that live on the host rather than belonging to the workload.
HOST_KINDS = ("instance-profile", "node-role", "host-role")
#: Credential sources that are the workload's own.
OWN_KINDS = ("task-role", "irsa", "pod-identity", "lambda-execution-role")

#: The AWS managed policies a host role needs, per host kind (reference: ECS Developer
#: Guide "Amazon ECS container instance IAM role"; EKS User Guide "Amazon EKS node IAM
#: role"; ECS Developer Guide "IAM role for ECS Anywhere").
BASELINES: dict[str, tuple[str, ...]] = {
    "instance-profile": ("AmazonEC2ContainerServiceforEC2Role",),
    "node-role": (
        "AmazonEKSWorkerNodePolicy",
        "AmazonEC2ContainerRegistryReadOnly",
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEKS_CNI_Policy",
    ),
    "host-role": ("AmazonSSMManagedInstanceCore", "AmazonEC2ContainerServiceforEC2Role"),
}


def _kind(source: Any) -> str:
    return str(source.source)


def baseline_role(ctx: AuditContext, host_kind: str) -> Role:
    """A pseudo-role holding exactly the managed baseline of a host kind."""
    docs = tuple(
        p for name in BASELINES.get(host_kind, ()) if (p := ctx.resolve_policy(name, True))
    )
    return Role(name=f"policyeval-baseline-{host_kind}", inline=docs)


def beyond_baseline(ctx: AuditContext, role: Role, host_kind: str) -> list[Grant]:
    """Grants of a host role that its managed baseline does not give, per the evaluator.

    A conditional grant is within the baseline when the baseline allows it at least
    conditionally; an unconditional one only when the baseline allows it outright.
    """
    base = baseline_role(ctx, host_kind)
    excess = []
    for grant in ctx.grants(role):
        resource = ctx.probe(grant.action) if grant.resource == "*" else concrete(grant.resource)
        outcome = ctx.decide(base, grant.action, resource).outcome.value
        if outcome == "allowed" or (grant.conditional and outcome == "conditional"):
            continue
        excess.append(grant)
    return excess


def _count(grants: Sequence[Any]) -> str:
    n = len({g.action for g in grants})
    return f"{n} action" if n == 1 else f"{n} actions"


def _actions_text(grants: Sequence[Any], limit: int = 8) -> str:
    names = sorted({g.action for g in grants})
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return shown + more


def _source_text(source: Any) -> str:
    via = f" via `{source.via}`" if getattr(source, "via", None) else ""
    role = f" `{source.role}`" if source.role else ""
    return f"{_kind(source)}{role}{via}"


# -- PE201 ---------------------------------------------------------------------------------


@rule(
    code="PE201",
    name="container-reaches-host-credentials",
    severity=Severity.HIGH,
    references=(
        TASK_ROLES,
        EC2_SECURITY,
        EKS_IMDS,
        "https://repost.aws/knowledge-center/ecs-container-ec2-metadata",
    ),
)
def reaches_host(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    A task or pod whose containers can reach the host's credentials: the EC2 instance
    profile or EKS node role through the instance metadata service (IMDS), or the ECS
    Anywhere role through a host mount. The reason names the setting that decides
    (network mode, IMDSv2 and hop limit, ECS_AWSVPC_BLOCK_IMDS, privileged mode).

    Why it matters:
    The host role's permissions add to the workload's own, whatever its task role says.
    On ECS the instance role also lets a container impersonate the agent and ask for
    other tasks' credentials. Severity is high when the host role grants more than its
    AWS managed baseline, medium when it stays within it.

    Example:
    cluster shop {
      capacity pool { launch ec2; instance-profile ecs-node; imds v1 }
      task web { task-role web; network bridge; on pool }
    }

    Fix:
    Require IMDSv2 with hop limit 1 for bridge-mode tasks and pods, set
    `ECS_AWSVPC_BLOCK_IMDS=true` for awsvpc tasks, avoid host networking and privileged
    containers, or move the workload to Fargate. Keep host roles at their managed
    baseline.
    """
    for w in ctx.workloads:
        if str(w.kind) not in ("task", "pod"):
            continue
        for source in w.credentials:
            if _kind(source) not in HOST_KINDS or source.reachable is False:
                continue
            role = source.resolved
            excess = beyond_baseline(ctx, role, _kind(source)) if role is not None else []
            severity = Severity.HIGH if excess or role is None else Severity.MEDIUM
            if source.reachable == "unknown" and not excess:
                severity = Severity.MEDIUM
            detail = (
                f"; the host role grants {_actions_text(excess)} beyond its AWS managed baseline"
                if excess
                else ""
            )
            maybe = "may reach" if source.reachable == "unknown" else "can reach"
            yield Finding(
                code="PE201",
                severity=severity,
                message=(
                    f"{w.kind} `{w.id}` {maybe} host credentials ({_source_text(source)}){detail}"
                ),
                workload=str(w.id),
                span=w.span,
                source=_source_text(source),
                statements=tuple(s for g in excess for s in g.statements)[:10],
                help=_block_help(str(w.platform)),
                notes=(source.reason,),
                key=f"{_kind(source)}:{source.role or ''}",
            )


def _block_help(platform: str) -> str:
    if platform.startswith("eks"):
        return "require IMDSv2 with hop limit 1 on the node group and avoid hostNetwork"
    if platform == "ecs-external":
        return "do not mount the host's /root/.aws and do not run privileged containers"
    return (
        "require IMDSv2 with hop limit 1 (bridge) or set ECS_AWSVPC_BLOCK_IMDS=true (awsvpc); "
        "avoid host networking"
    )


# -- PE202 ---------------------------------------------------------------------------------


@rule(
    code="PE202",
    name="task-without-task-role-on-ec2",
    severity=Severity.HIGH,
    references=(TASK_ROLES, "https://repost.aws/knowledge-center/ecs-iam-task-roles-config-errors"),
)
def no_task_role(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    An ECS task on EC2 or External capacity without a task role whose containers can
    reach the host credentials.

    Why it matters:
    With no task role the SDK's credential chain falls through to the instance
    metadata service, and the application silently runs with the instance role: every
    permission of the ECS agent and whatever else is attached to the host.

    Example:
    cluster shop {
      capacity pool { launch ec2; instance-profile ecs-node }
      task web { network bridge; on pool }
    }

    Fix:
    Give the task its own task role with the permissions it needs (an empty one if it
    needs none), and block IMDS for containers (PE201).
    """
    tasks = {t.id: t for t in ctx.workspace.tasks}
    for w in ctx.workloads:
        task = tasks.get(str(w.id))
        if str(w.kind) != "task" or task is None or task.task_role is not None:
            continue
        if not str(w.platform).startswith("ecs-") or str(w.platform) == "ecs-fargate":
            continue
        hosts = [s for s in w.credentials if _kind(s) in HOST_KINDS and s.reachable is not False]
        if not hosts:
            continue
        yield Finding(
            code="PE202",
            severity=Severity.HIGH,
            message=(
                f"task `{task.id}` has no task role: the SDK falls back to the host credentials "
                f"({_source_text(hosts[0])})"
            ),
            workload=task.id,
            span=task.span,
            source=_source_text(hosts[0]),
            help="give the task a task role of its own",
            notes=(hosts[0].reason,),
            key=task.id,
        )


# -- PE203 ---------------------------------------------------------------------------------


def need_covers(need: Need, action: str) -> bool:
    return action_matches(need.action, action)


def least_privilege_policy(needs: Sequence[Need]) -> dict[str, Any]:
    """An IAM policy granting exactly the needs: one statement per resource set."""
    by_resources: dict[tuple[str, ...], list[str]] = {}
    for need in needs:
        resources = tuple(sorted(set(need.resources))) or ("*",)
        actions = by_resources.setdefault(resources, [])
        if need.action not in actions:
            actions.append(need.action)
    statements = []
    for index, (resources, actions) in enumerate(sorted(by_resources.items())):
        statements.append(
            {
                "Sid": f"Needed{index + 1}",
                "Effect": "Allow",
                "Action": sorted(actions) if len(actions) > 1 else actions[0],
                "Resource": list(resources) if len(resources) > 1 else resources[0],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _policy_model(document: dict[str, Any], name: str) -> Any:
    from policyeval.model.policy import Effect, Policy, Statement

    statements = []
    for st in document["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        statements.append(
            Statement(
                effect=Effect.ALLOW,
                sid=st["Sid"],
                action=tuple(actions),
                resource=tuple(resources),
            )
        )
    return Policy(name=name, statements=tuple(statements))


def verify_suggestion(
    ctx: AuditContext,
    role: Role,
    document: dict[str, Any],
    needs: Sequence[Need],
    excess: Sequence[tuple[str, str]],
) -> list[str]:
    """Ask the evaluator that the suggested policy (under the role's boundary and SCPs)
    grants every need and none of the excess; return what does not hold."""
    from dataclasses import replace

    suggested = _policy_model(document, f"{role.name}-least-privilege")
    policy_set = replace(ctx.policy_set(role), identity=(suggested,))
    trial = Role(name=f"{role.name}#suggested", arn=ctx.role_arn(role), inline=(suggested,))
    problems = []
    for need in needs:
        if "*" in need.action or "?" in need.action:
            continue
        for pattern in need.resources:
            resource = ctx.probe(need.action) if pattern == "*" else concrete(pattern)
            decision = ctx.decide(trial, need.action, resource, policy_set=policy_set)
            if decision.outcome.value not in ("allowed", "conditional"):
                problems.append(
                    f"`{need.action}` on `{pattern}` is not allowed ({decision.outcome.value})"
                )
    for action, pattern in excess:
        resource = ctx.probe(action) if pattern == "*" else concrete(pattern)
        if ctx.decide(trial, action, resource, policy_set=policy_set).allowed:
            problems.append(f"`{action}` is still allowed")
    return problems


@rule(
    code="PE203",
    name="permissions-beyond-needs",
    severity=Severity.MEDIUM,
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-policy-generation.html",
        "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html",
    ),
)
def beyond_needs(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    A task, container, pod or Lambda function whose own role allows actions beyond the
    needs declared for it (`needs` in `.pel`, a needs file, or usage recorded in
    CloudTrail). The finding lists the exact excess actions and suggests a policy that
    grants the needs and nothing else, checked with the evaluator.

    Why it matters:
    Every permission a workload does not use is one an attacker who takes it over can
    use. Needs make "least privilege" checkable.

    Example:
    task worker {
      task-role shop-task
      container app { needs s3:GetObject on "arn:aws:s3:::shop-assets/*" }
    }

    Fix:
    Replace the role's policies with the suggested one (shown in the finding and in
    the JSON and SARIF output), or declare the missing needs if they are real.
    """
    reported: dict[tuple[str, str], frozenset[str]] = {}
    for w in ctx.effective.workloads:
        if str(w.kind) not in ("task", "container", "pod", "function"):
            continue
        needs = ctx.workload_needs(w)
        if not needs:
            continue
        for source in w.credentials:
            if _kind(source) not in OWN_KINDS or source.reachable is False:
                continue
            role = source.resolved
            if role is None:
                continue
            grants = [g for g in w.allowed if g.source == source.source and g.role == source.role]
            excess = [g for g in grants if not any(need_covers(n, g.action) for n in needs)]
            if not excess:
                continue
            actions = frozenset(g.action for g in excess)
            parent = str(w.id).rsplit("/", 1)[0] if str(w.kind) == "container" else None
            if parent is not None and reported.get((parent, str(source.role))) == actions:
                continue  # the task's finding already says it
            reported[(str(w.id), str(source.role))] = actions
            document = least_privilege_policy(needs)
            pairs = [(g.action, g.resource) for g in excess]
            problems = verify_suggestion(ctx, role, document, needs, pairs)
            notes = [f"excess: {', '.join(sorted({g.action for g in excess}))}"]
            if problems:
                notes.append("the suggested policy did not verify: " + "; ".join(problems))
            else:
                notes.append("the suggested policy was checked with the evaluator")
            severity = Severity.MEDIUM
            if any(str(g.access_level) in ("Permissions management", "Write") for g in excess):
                severity = Severity.HIGH
            yield Finding(
                code="PE203",
                severity=severity,
                message=(
                    f"{w.kind} `{w.id}` can do {_count(excess)} beyond "
                    f"its declared needs through {_source_text(source)}: {_actions_text(excess)}"
                ),
                workload=str(w.id),
                span=w.workload.span if w.workload is not None else None,
                source=_source_text(source),
                statements=_statement_spans(ctx, role, pairs),
                fix=json.dumps(document, indent=2),
                help="grant only the declared needs (see the suggested policy)",
                notes=tuple(notes),
                key=f"{_kind(source)}:{source.role or ''}",
            )


def _statement_spans(
    ctx: AuditContext, role: Role, pairs: Sequence[tuple[str, str]], limit: int = 10
) -> tuple[Span, ...]:
    """Where the excess comes from: the Allow statements the evaluator matched."""
    spans: dict[Span, None] = {}
    for action, pattern in pairs:
        resource = ctx.probe(action) if pattern == "*" else concrete(pattern)
        for m in ctx.decide(role, action, resource).matched:
            if m.span is not None and m.effect.lower() == "allow":
                spans[m.span] = None
        if len(spans) >= limit:
            break
    return tuple(spans)[:limit]


# -- PE204 ---------------------------------------------------------------------------------

_SOCKETS = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
)
_SENSITIVE_PATHS = ("/", "/root/.aws", "/var/lib/ecs", "/etc", "/proc", "/var/lib/kubelet")


@rule(
    code="PE204",
    name="privileged-or-host-namespace",
    severity=Severity.HIGH,
    references=(
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html",
        "https://docs.aws.amazon.com/eks/latest/best-practices/pod-security.html",
    ),
)
def privileged(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    Containers that run privileged, tasks or pods in the host PID or IPC namespace, and
    mounts of the container runtime socket, the host's `/`, `/root/.aws` or the ECS
    agent's data directory.

    Why it matters:
    Each one hands the container control of the host: the host credentials, every other
    task's credentials and data, and a way around every network control on IMDS.

    Example:
    task agent-sidecar {
      container app { privileged; mount "/var/run/docker.sock" }
    }

    Fix:
    Drop `privileged` and host namespaces; grant the Linux capabilities the container
    needs; do not mount the runtime socket or host system paths.
    """
    for task in ctx.workspace.tasks:
        if task.pid_mode == "host":
            yield _host_finding(task.id, "uses the host PID namespace", task.span, "pid")
        if task.ipc_mode == "host":
            yield _host_finding(
                task.id, "uses the host IPC namespace", task.span, "ipc", Severity.MEDIUM
            )
        for c in task.containers:
            wid = f"{task.id}/{c.name}"
            if c.privileged:
                yield _host_finding(wid, "runs privileged", c.span or task.span, "privileged")
            for m in c.mounts:
                yield from _mount_findings(wid, m.source_path, m.span or c.span or task.span)
    for pod in ctx.workspace.pods:
        if pod.privileged:
            yield _host_finding(pod.id, "runs privileged", pod.span, "privileged")
        if pod.host_pid:
            yield _host_finding(pod.id, "uses the host PID namespace", pod.span, "pid")
        for m in pod.host_paths:
            yield from _mount_findings(pod.id, m.source_path, m.span or pod.span)


def _mount_findings(wid: str, path: str, span: Span | None) -> Iterator[Finding]:
    norm = "/" + "/".join(p for p in path.split("/") if p and p != ".")
    if norm in _SOCKETS:
        yield _host_finding(
            wid, f"mounts the container runtime socket `{path}`", span, f"mount:{norm}"
        )
    elif norm in _SENSITIVE_PATHS:
        yield _host_finding(wid, f"mounts the host path `{path}`", span, f"mount:{norm}")


def _host_finding(
    wid: str, what: str, span: Span | None, key: str, severity: Severity = Severity.HIGH
) -> Finding:
    return Finding(
        code="PE204",
        severity=severity,
        message=f"`{wid}` {what}: it controls the host and its credentials",
        workload=wid,
        span=span,
        help="drop privileged mode, host namespaces and host system mounts",
        key=key,
    )


# -- PE205 ---------------------------------------------------------------------------------

_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
_CRED_NAMES = ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN")


@rule(
    code="PE205",
    name="static-credentials-in-environment",
    severity=Severity.CRITICAL,
    references=(
        "https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html",
    ),
)
def static_credentials(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    Environment variables of a container that hold AWS access keys: `AWS_ACCESS_KEY_ID`,
    `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, or any value shaped like an access key
    id (`AKIA…`, `ASIA…`). The value is never printed.

    Why it matters:
    The keys are readable by anyone who can describe the task definition, they never
    rotate, and the SDK uses them before every role, so the task role is bypassed.

    Example:
    task web { container app { env AWS_SECRET_ACCESS_KEY = "…" } }

    Fix:
    Remove the keys, deactivate them in IAM, and give the task a task role.
    """
    for task in ctx.workspace.tasks:
        for c in task.containers:
            wid = f"{task.id}/{c.name}"
            for name, value in c.environment:
                if name.upper() in _CRED_NAMES or _KEY_ID.search(value or ""):
                    yield Finding(
                        code="PE205",
                        severity=Severity.CRITICAL,
                        message=f"container `{wid}` has AWS credentials in environment `{name}`",
                        workload=wid,
                        span=c.span or task.span,
                        help="remove static keys, deactivate them, and use a task role",
                        key=name,
                    )


# -- PE206 ---------------------------------------------------------------------------------


@rule(
    code="PE206",
    name="task-role-is-execution-role",
    severity=Severity.MEDIUM,
    references=(EXEC_ROLE, TASK_ROLES),
)
def same_roles(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    A task definition whose task role and execution role are the same role.

    Why it matters:
    The execution role is for the agent: image pulls, logs and the task's secrets. As
    the task role, the application code holds all of that too, including read access to
    every secret the task definition injects.

    Example:
    task web { task-role web; execution-role web }

    Fix:
    Use two roles: an execution role with the agent's permissions and a task role with
    the application's.
    """
    ws = ctx.workspace
    for task in ws.tasks:
        if task.task_role is None or task.execution_role is None:
            continue
        a, b = ctx.find_role(task.task_role), ctx.find_role(task.execution_role)
        same = (a is not None and a is b) or task.task_role.value == task.execution_role.value
        if same and not task.task_role.is_unknown:
            yield Finding(
                code="PE206",
                severity=Severity.MEDIUM,
                message=(
                    f"task `{task.id}` uses role `{task.task_role.value}` "
                    "as both task role and execution role"
                ),
                workload=task.id,
                span=task.execution_role.span or task.span,
                help="give the application a task role separate from the execution role",
                key=task.task_role.value,
            )


# -- PE207 / PE208 -------------------------------------------------------------------------

SECRET_ACTIONS = ("secretsmanager:GetSecretValue", "ssm:GetParameters", "kms:Decrypt")


def _execution_roles(ctx: AuditContext) -> dict[str, tuple[Role, list[Task]]]:
    out: dict[str, tuple[Role, list[Task]]] = {}
    for task in ctx.workspace.tasks:
        role = ctx.find_role(task.execution_role)
        if role is not None:
            out.setdefault(role.name, (role, []))[1].append(task)
    return out


@rule(
    code="PE207",
    name="execution-role-reads-every-secret",
    severity=Severity.HIGH,
    references=(EXEC_ROLE,),
)
def exec_reads_all(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    A task execution role allowed `secretsmanager:GetSecretValue`, `ssm:GetParameters`
    or `kms:Decrypt` on every secret, parameter or key.

    Why it matters:
    The execution role needs only the secrets its task definitions inject. Anyone who
    can register a task definition with this role, or who steals the agent's credentials
    on the host, can read every secret in the account.

    Example:
    policy exec { allow secretsmanager:GetSecretValue, kms:Decrypt on * }

    Fix:
    Scope the statement to the ARNs in the task definitions' `secrets[].valueFrom` and
    the KMS keys that encrypt them.
    """
    for name, (role, tasks) in sorted(_execution_roles(ctx).items()):
        for action in SECRET_ACTIONS:
            decision = ctx.allowed(role, action)
            if not decision.allowed:
                continue
            spans = tuple(m.span for m in decision.matched if m.span is not None)
            users = ", ".join(f"`{t.id}`" for t in tasks[:3])
            yield Finding(
                code="PE207",
                severity=Severity.HIGH,
                message=f"execution role `{name}` (of {users}) allows `{action}` on every resource",
                subject=name,
                span=spans[0] if spans else role.span,
                statements=spans,
                help="scope it to the secrets the task definitions inject",
                key=action,
            )


def secret_request(ref: str, account: str) -> tuple[str, str]:
    """The action and resource the agent uses for one `valueFrom` (ECS Developer Guide,
    "Pass sensitive data to a container")."""
    if ref.startswith("arn:") and ":secretsmanager:" in ref:
        parts = ref.split(":")
        return "secretsmanager:GetSecretValue", ":".join(parts[:7])
    if ref.startswith("arn:"):
        return "ssm:GetParameters", ref
    name = ref if ref.startswith("/") else f"/{ref}"
    return "ssm:GetParameters", f"arn:aws:ssm:us-east-1:{account}:parameter{name}"


@rule(
    code="PE208",
    name="execution-role-cannot-read-secret",
    severity=Severity.MEDIUM,
    references=(
        EXEC_ROLE,
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar.html",
    ),
)
def exec_cannot_read(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    A secret that a task definition injects (`secrets[].valueFrom`) which its execution
    role is not allowed to read, or a task that injects secrets with no execution role.

    Why it matters:
    The task fails to start with a secrets retrieval error at deploy time; finding it
    before the deployment is cheaper.

    Example:
    task web {
      execution-role exec
      container app { secret "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf" }
    }

    Fix:
    Allow the execution role `secretsmanager:GetSecretValue` (or `ssm:GetParameters`) on
    exactly that ARN, and `kms:Decrypt` on its customer managed key if it has one.
    """
    ws = ctx.workspace
    for task in ws.tasks:
        secrets = [(c, s) for c in task.containers for s in c.secrets if not s.is_unknown]
        if not secrets:
            continue
        role = ctx.find_role(task.execution_role)
        if role is None:
            if task.execution_role is None:
                yield Finding(
                    code="PE208",
                    severity=Severity.MEDIUM,
                    message=f"task `{task.id}` injects secrets but has no execution role",
                    workload=task.id,
                    span=task.span,
                    help="add an execution role allowed to read the secrets",
                    key="no-execution-role",
                )
            continue
        for container, secret in secrets:
            action, resource = secret_request(secret.value, ctx.account)
            decision = ctx.decide(role, action, resource)
            if decision.outcome.value in ("allowed", "conditional"):
                continue
            yield Finding(
                code="PE208",
                severity=Severity.MEDIUM,
                message=(
                    f"execution role `{role.name}` of task `{task.id}` cannot `{action}` on "
                    f"`{resource}` ({decision.outcome.value}), so the task will not start"
                ),
                workload=task.id,
                span=secret.span or container.span or task.span,
                subject=role.name,
                help=f"allow `{action}` on `{resource}` in the execution role",
                key=resource,
            )


# -- PE209 ---------------------------------------------------------------------------------

_POWERFUL = (
    "iam:PassRole",
    "iam:CreatePolicyVersion",
    "iam:AttachRolePolicy",
    "iam:PutRolePolicy",
    "secretsmanager:GetSecretValue",
    "kms:Decrypt",
    "s3:GetObject",
    "ssm:GetParameters",
    "policyevalprobe:AnyAction",
)


@rule(
    code="PE209",
    name="ecs-exec-with-powerful-task-role",
    severity=Severity.MEDIUM,
    references=(
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html",
        TASK_ROLES,
    ),
)
def exec_powerful(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    ECS Exec (`enableExecuteCommand`) turned on for a task or service whose task role
    can pass roles, change IAM, or read secrets, keys or objects on every resource.

    Why it matters:
    Anyone allowed `ecs:ExecuteCommand` on the task gets a shell in it and with it the
    task role's credentials: ECS Exec turns an operator permission into those powers.

    Example:
    task admin-api { task-role admin; execute-command }

    Fix:
    Turn ECS Exec off on that service, or narrow the task role; restrict
    `ecs:ExecuteCommand` with `ecs:container-name` and tag conditions.
    """
    ws = ctx.workspace
    services = {s.task.value: s for s in ws.services if s.enable_execute_command}
    for task in ws.tasks:
        service = services.get(task.id) or services.get(task.family)
        if not (task.enable_execute_command or service is not None):
            continue
        role = ctx.find_role(task.task_role)
        if role is None:
            continue
        powers = [
            a.replace("policyevalprobe:AnyAction", "*")
            for a in _POWERFUL
            if ctx.allowed(role, a, "*" if a.startswith("policyevalprobe") else None).allowed
        ]
        if not powers:
            continue
        where = f"service `{service.name}`" if service is not None else f"task `{task.id}`"
        yield Finding(
            code="PE209",
            severity=Severity.MEDIUM,
            message=(
                f"ECS Exec is enabled on {where} whose task role `{role.name}` allows "
                + ", ".join(f"`{p}`" for p in powers[:4])
                + " on every resource"
            ),
            workload=task.id,
            span=(service.span if service is not None else None) or task.span,
            help="disable ECS Exec here or narrow the task role",
            key=task.id,
        )


RULES = (
    reaches_host,
    no_task_role,
    beyond_needs,
    privileged,
    static_credentials,
    same_roles,
    exec_reads_all,
    exec_cannot_read,
    exec_powerful,
)

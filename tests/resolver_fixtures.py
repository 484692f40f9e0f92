"""Workspaces built directly from model nodes, one per row of DESIGN §4 and per IMDS control.

Shared by the credential, effective-permission, golden and property tests of the resolver.
"""

from __future__ import annotations

from policyeval.model.policy import Condition, Effect, Policy, Statement
from policyeval.model.topology import (
    Capacity,
    Container,
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
    ServiceAccount,
    Task,
)
from policyeval.model.workspace import Workspace

ACCOUNT = "111122223333"


def arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def allow(
    actions: tuple[str, ...] | list[str],
    resources: tuple[str, ...] | list[str] = ("*",),
    conditions: tuple[Condition, ...] = (),
) -> Statement:
    return Statement(
        effect=Effect.ALLOW, action=tuple(actions), resource=tuple(resources), condition=conditions
    )


def deny(
    actions: tuple[str, ...] | list[str], resources: tuple[str, ...] | list[str] = ("*",)
) -> Statement:
    return Statement(effect=Effect.DENY, action=tuple(actions), resource=tuple(resources))


def policy(name: str, *statements: Statement) -> Policy:
    return Policy(name=name, statements=tuple(statements))


def role(name: str, *statements: Statement, **kwargs: object) -> Role:
    inline = (policy(f"{name}-inline", *statements),) if statements else ()
    return Role(name=name, arn=arn(name), inline=inline, **kwargs)  # type: ignore[arg-type]


#: The roles every fixture workspace defines; each grants one recognisable action.
ROLES = (
    role("task", allow(["s3:GetObject"], ["arn:aws:s3:::shop-assets/*"])),
    role("exec", allow(["secretsmanager:GetSecretValue"])),
    role("host", allow(["ecs:Poll", "ec2:DescribeTags"])),
    role("anywhere", allow(["ssm:UpdateInstanceInformation"])),
    role("node", allow(["ec2:DescribeInstances"])),
    role("irsa", allow(["dynamodb:GetItem"])),
    role("podid", allow(["sqs:SendMessage"])),
    role("fargate-exec", allow(["ecr:BatchGetImage"])),
    role("fn", allow(["logs:PutLogEvents"])),
)


def ecs_workspace(
    *,
    launch: LaunchType = LaunchType.EC2,
    network: str | None = None,
    metadata: MetadataOptions | None = None,
    host: HostSettings | None = None,
    privileged: bool = False,
    pid_mode: str | None = None,
    mounts: tuple[HostMount, ...] = (),
    task_role: str | None = "task",
    execution_role: str | None = "exec",
    instance_profile: str | None = "host-profile",
    roles: tuple[Role, ...] = ROLES,
) -> Workspace:
    """One cluster `shop`, one capacity `pool`, one task `web` with container `app`."""
    capacity = Capacity(
        name="pool",
        launch=launch,
        instance_profile=Ref(instance_profile)
        if instance_profile and launch is LaunchType.EC2
        else None,
        host_role=Ref("anywhere") if launch is LaunchType.EXTERNAL else None,
        metadata=metadata,
        host=host,
    )
    task = Task(
        id="web",
        family="web",
        task_role=Ref(task_role) if task_role else None,
        execution_role=Ref(execution_role) if execution_role else None,
        network_mode=network,
        pid_mode=pid_mode,
        cluster="shop",
        capacity="pool",
        containers=(Container(name="app", privileged=privileged, mounts=mounts),),
    )
    return Workspace(
        account=ACCOUNT,
        roles=roles,
        instance_profiles=(InstanceProfile(name="host-profile", role=Ref("host")),),
        ecs_clusters=(EcsCluster(id="shop", name="shop", capacities=(capacity,)),),
        tasks=(task,),
    )


def eks_workspace(
    *,
    kind: NodeGroupKind = NodeGroupKind.MANAGED,
    metadata: MetadataOptions | None = None,
    host: HostSettings | None = None,
    host_network: bool = False,
    host_pid: bool = False,
    privileged: bool = False,
    host_paths: tuple[HostMount, ...] = (),
    irsa: str | None = None,
    pod_identity: str | None = None,
    roles: tuple[Role, ...] = ROLES,
) -> Workspace:
    """One EKS cluster `prod`, one node group `ng` (or Fargate profile for namespace `shop`),
    one pod `shop/web` with service account `web`."""
    if kind is NodeGroupKind.FARGATE:
        group = NodeGroup(
            id="fp",
            name="fp",
            cluster="prod",
            kind=kind,
            role=Ref("fargate-exec"),
            namespaces=("shop",),
        )
    else:
        group = NodeGroup(
            id="ng",
            name="ng",
            cluster="prod",
            kind=kind,
            role=Ref("node"),
            metadata=metadata,
            host=host,
        )
    return Workspace(
        account=ACCOUNT,
        roles=roles,
        eks_clusters=(EksCluster(id="prod", name="prod"),),
        node_groups=(group,),
        service_accounts=(
            ServiceAccount(
                namespace="shop",
                name="web",
                cluster="prod",
                irsa_role=Ref(arn(irsa)) if irsa else None,
                pod_identity_role=Ref(pod_identity) if pod_identity else None,
            ),
        ),
        pods=(
            Pod(
                id="shop/web",
                namespace="shop",
                name="web",
                cluster="prod",
                service_account="web",
                host_network=host_network,
                host_pid=host_pid,
                privileged=privileged,
                host_paths=host_paths,
            ),
        ),
    )


def lambda_workspace(roles: tuple[Role, ...] = ROLES) -> Workspace:
    return Workspace(
        account=ACCOUNT,
        roles=roles,
        functions=(Function(id="nightly", name="nightly", execution_role=Ref("fn")),),
    )


def with_scp(ws: Workspace, *statements: Statement) -> Workspace:
    """The workspace with one SCP (plus the default FullAWSAccess) attached at the root."""
    from dataclasses import replace

    full = policy("FullAWSAccess", allow(["*"]))
    scp = policy("guard", *statements)
    return replace(
        ws,
        policies=(*ws.policies, full, scp),
        org_policies=(
            *ws.org_policies,
            OrgPolicyAttachment(kind="scp", level=0, policy="FullAWSAccess"),
            OrgPolicyAttachment(kind="scp", level=0, policy="guard"),
        ),
    )


def boundary_role(name: str, boundary: str, *statements: Statement) -> Role:
    return role(name, *statements, boundary=PolicyAttachment(ref=boundary))

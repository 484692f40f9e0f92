"""A seeded generator of realistic AWS estates, from a hundred roles to tens of thousands.

One estate is a folder holding what a platform team's repository and an account export
would hold:

- `account/authorization-details.json`: `aws iam get-account-authorization-details` output
  with roles (trust policies for ecs-tasks, ec2, lambda and IRSA, inline policies,
  customer-managed and AWS-managed attachments, permissions boundaries, instance
  profiles), the customer-managed policies with several versions, and the AWS-managed
  policies the roles attach (documents copied from policyeval's bundled data; a few other
  AWS-managed names are attached too, some with a document in the dump and one without);
- `taskdefs/<family>.json`: `aws ecs describe-task-definition` output, on EC2 (bridge,
  awsvpc, host network, some privileged or mounting the Docker socket) and Fargate;
- `stacks/ecs-<n>.yaml`: one CloudFormation stack per ECS cluster: cluster, capacity
  provider, Auto Scaling group and launch template (MetadataOptions and user data writing
  `/etc/ecs/ecs.config`), and a service per EC2 task definition;
- `stacks/eks.yaml`: EKS clusters with managed node groups and their launch templates;
- `k8s/<namespace>.yaml`: ServiceAccounts with the IRSA annotation and Deployments using them.

Deterministic: the same `(roles, tasks, seed)` gives byte-identical files.

Run: `python -m bench.estate_gen --roles 1000 [--tasks 400] [--seed 7] [--out DIR]`.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCOUNT = "111122223333"
REGION = "eu-west-1"
OIDC = f"oidc.eks.{REGION}.amazonaws.com/id/5C1A9E0B2D7F4E3A8B6C0D1E2F3A4B5C"
V = "2012-10-17"

_DATA = Path(__file__).resolve().parent.parent / "policyeval" / "data" / "managed_policies"

#: AWS-managed policies the dump attaches and carries, by role kind (all bundled).
_AWS_BUNDLED = {
    "exec": ("service-role/AmazonECSTaskExecutionRolePolicy",),
    "instance": (
        "service-role/AmazonEC2ContainerServiceforEC2Role",
        "AmazonSSMManagedInstanceCore",
    ),
    "node": (
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryReadOnly",
    ),
    "lambda": ("service-role/AWSLambdaBasicExecutionRole",),
}
#: Other AWS-managed names seen in real accounts: documents we write ourselves (small and
#: broad, as the real ones are), and one attached without a document in the dump.
_AWS_OTHER: dict[str, list[dict[str, Any]]] = {
    "AmazonS3FullAccess": [
        {"Effect": "Allow", "Action": ["s3:*", "s3-object-lambda:*"], "Resource": "*"}
    ],
    "AdministratorAccess": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    "AmazonSQSFullAccess": [{"Effect": "Allow", "Action": ["sqs:*"], "Resource": "*"}],
}
_AWS_MISSING = "CloudWatchAgentServerPolicy"

_SERVICES = ("s3", "dynamodb", "sqs", "sns", "kms", "secretsmanager", "ssm", "logs", "events")
_READ = {
    "s3": ["s3:GetObject", "s3:ListBucket", "s3:GetObjectVersion"],
    "dynamodb": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem"],
    "sqs": ["sqs:ReceiveMessage", "sqs:GetQueueAttributes", "sqs:DeleteMessage"],
    "sns": ["sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"],
    "kms": ["kms:Decrypt", "kms:DescribeKey"],
    "secretsmanager": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
    "ssm": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
    "logs": ["logs:CreateLogStream", "logs:PutLogEvents"],
    "events": ["events:PutEvents"],
}
_WRITE = {
    "s3": ["s3:PutObject", "s3:DeleteObject"],
    "dynamodb": ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
    "sqs": ["sqs:SendMessage"],
    "sns": ["sns:Publish"],
    "kms": ["kms:Encrypt", "kms:GenerateDataKey"],
    "secretsmanager": ["secretsmanager:PutSecretValue"],
    "ssm": ["ssm:PutParameter"],
    "logs": ["logs:CreateLogGroup"],
    "events": ["events:PutRule"],
}
_RISKY = (
    ["iam:PassRole"],
    ["iam:CreatePolicyVersion", "iam:AttachRolePolicy"],
    ["s3:*"],
    ["ec2:Describe*", "ec2:CreateSnapshot"],
    ["secretsmanager:GetSecretValue"],
    ["lambda:UpdateFunctionCode", "lambda:InvokeFunction"],
)


def _resource(rng: random.Random, service: str, team: str, n: int) -> str:
    name = f"{team}-{n}"
    match service:
        case "s3":
            return (
                f"arn:aws:s3:::acme-{name}/*" if rng.random() < 0.6 else f"arn:aws:s3:::acme-{name}"
            )
        case "dynamodb":
            return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
        case "sqs":
            return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
        case "sns":
            return f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
        case "kms":
            return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{n:08d}-aaaa-bbbb-cccc-{n:012d}"
        case "secretsmanager":
            return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/{team}/{n}-*"
        case "ssm":
            return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{team}/{n}/*"
        case "logs":
            return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/{name}:*"
        case _:
            return f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}"


def _statements(rng: random.Random, team: str, count: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(count):
        service = rng.choice(_SERVICES)
        actions = rng.sample(_READ[service], k=rng.randint(1, len(_READ[service])))
        if rng.random() < 0.5:
            actions += rng.sample(_WRITE[service], k=1)
        statement: dict[str, Any] = {
            "Sid": f"S{i}",
            "Effect": "Allow",
            "Action": actions if len(actions) > 1 else actions[0],
            "Resource": [
                _resource(rng, service, team, rng.randint(0, 40)) for _ in range(rng.randint(1, 3))
            ],
        }
        roll = rng.random()
        if roll < 0.08:
            statement["Resource"] = "*"  # the usual shortcut
        elif roll < 0.12:
            statement["Action"] = f"{service}:*"
        if rng.random() < 0.1:
            statement["Condition"] = {"StringEquals": {"aws:RequestedRegion": REGION}}
        elif rng.random() < 0.05:
            statement["Condition"] = {"Bool": {"aws:SecureTransport": "true"}}
        out.append(statement)
    if rng.random() < 0.06:
        out.append({"Effect": "Allow", "Action": rng.choice(_RISKY), "Resource": "*"})
    if rng.random() < 0.03:
        out.append({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"})
    if rng.random() < 0.05:
        out.append(
            {
                "Effect": "Deny",
                "Action": ["s3:DeleteBucket", "dynamodb:DeleteTable"],
                "Resource": "*",
            }
        )
    return out


def _doc(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": V, "Statement": statements}


def _trust(kind: str, rng: random.Random, namespace: str, sa: str) -> dict[str, Any]:
    if kind in ("task", "exec"):
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
        if rng.random() < 0.5:
            statement["Condition"] = {
                "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:*"},
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
            }
        return _doc([statement])
    if kind in ("instance", "node"):
        return {
            "Version": "2008-10-17",
            "Statement": [
                {
                    "Sid": "",
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    if kind == "lambda":
        return _doc(
            [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ]
        )
    if kind == "irsa":
        sub = (
            f"system:serviceaccount:{namespace}:{sa}"
            if rng.random() < 0.9
            else f"system:serviceaccount:{namespace}:*"
        )
        op = "StringEquals" if not sub.endswith("*") else "StringLike"
        return _doc(
            [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC}"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {op: {f"{OIDC}:aud": "sts.amazonaws.com", f"{OIDC}:sub": sub}},
                }
            ]
        )
    # cross-account admin / CI roles
    return _doc(
        [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            }
        ]
    )


@dataclass
class Estate:
    """What was generated, for the benchmarks to point at."""

    root: Path
    dump: Path
    roles: int
    tasks: int
    files: list[Path] = field(default_factory=list)


def _aws_managed(path: str) -> dict[str, Any]:
    name = path.rsplit("/", 1)[-1]
    arn = f"arn:aws:iam::aws:policy/{path}"
    bundled = _DATA / f"{name}.json"
    if bundled.exists():
        document = json.loads(bundled.read_text(encoding="utf-8"))
    else:
        document = _doc(_AWS_OTHER[name])
    return {
        "PolicyName": name,
        "PolicyId": "ANPA" + name.upper()[:16],
        "Arn": arn,
        "Path": "/" + (path.rsplit("/", 1)[0] + "/" if "/" in path else ""),
        "DefaultVersionId": "v1",
        "AttachmentCount": 1,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "CreateDate": "2019-01-01T00:00:00Z",
        "UpdateDate": "2019-01-01T00:00:00Z",
        "PolicyVersionList": [
            {
                "Document": document,
                "VersionId": "v1",
                "IsDefaultVersion": True,
                "CreateDate": "2019-01-01T00:00:00Z",
            }
        ],
    }


def generate(out: Path, roles: int, tasks: int | None = None, seed: int = 7) -> Estate:
    """Write an estate with `roles` roles and `tasks` task definitions (default 2/5 of the
    roles) under `out`; return where things are."""
    rng = random.Random(seed * 1_000_003 + roles)
    tasks = roles * 2 // 5 if tasks is None else tasks
    teams = [f"team{n:03d}" for n in range(max(4, roles // 40))]
    namespaces = [f"ns-{t}" for t in teams[: max(2, len(teams) // 3)]]

    # -- role plan: task and execution roles first, so task definitions can name them ---------
    n_task = max(1, int(roles * 0.40))
    n_exec = max(1, int(roles * 0.12))
    n_instance = max(1, int(roles * 0.06))
    n_node = max(1, int(roles * 0.02))
    n_irsa = max(1, int(roles * 0.15))
    n_lambda = max(1, int(roles * 0.15))
    n_other = max(0, roles - (n_task + n_exec + n_instance + n_node + n_irsa + n_lambda))
    plan = (
        ["task"] * n_task
        + ["exec"] * n_exec
        + ["instance"] * n_instance
        + ["node"] * n_node
        + ["irsa"] * n_irsa
        + ["lambda"] * n_lambda
        + ["other"] * n_other
    )

    # customer-managed policies (shared), boundaries
    customer: list[dict[str, Any]] = []
    n_customer = max(5, roles // 8)
    for i in range(n_customer):
        team = rng.choice(teams)
        versions = []
        n_versions = rng.randint(1, 3)
        for v in range(n_versions, 0, -1):
            versions.append(
                {
                    "Document": _doc(_statements(rng, team, rng.randint(1, 4))),
                    "VersionId": f"v{v}",
                    "IsDefaultVersion": v == n_versions,
                    "CreateDate": "2024-06-30T09:00:00Z",
                }
            )
        customer.append(
            {
                "PolicyName": f"{team}-access-{i}",
                "PolicyId": f"ANPACUSTOMER{i:08d}",
                "Arn": f"arn:aws:iam::{ACCOUNT}:policy/{team}-access-{i}",
                "Path": "/",
                "DefaultVersionId": f"v{n_versions}",
                "AttachmentCount": 0,
                "PermissionsBoundaryUsageCount": 0,
                "IsAttachable": True,
                "CreateDate": "2024-01-09T15:19:00Z",
                "UpdateDate": "2024-06-30T09:00:00Z",
                "PolicyVersionList": versions,
            }
        )
    boundaries = []
    for i in range(3):
        allowed = sorted(rng.sample(_SERVICES, k=5))
        boundaries.append(
            {
                "PolicyName": f"workload-boundary-{i}",
                "PolicyId": f"ANPABOUNDARY{i:08d}",
                "Arn": f"arn:aws:iam::{ACCOUNT}:policy/workload-boundary-{i}",
                "Path": "/",
                "DefaultVersionId": "v1",
                "AttachmentCount": 0,
                "PermissionsBoundaryUsageCount": 1,
                "IsAttachable": True,
                "CreateDate": "2023-11-01T10:00:00Z",
                "UpdateDate": "2023-11-01T10:00:00Z",
                "PolicyVersionList": [
                    {
                        "Document": _doc(
                            [
                                {
                                    "Effect": "Allow",
                                    "Action": [f"{s}:*" for s in allowed],
                                    "Resource": "*",
                                },
                                {
                                    "Effect": "Deny",
                                    "Action": ["iam:*", "organizations:*"],
                                    "Resource": "*",
                                },
                            ]
                        ),
                        "VersionId": "v1",
                        "IsDefaultVersion": True,
                        "CreateDate": "2023-11-01T10:00:00Z",
                    }
                ],
            }
        )

    aws_used: dict[str, None] = {}
    role_list: list[dict[str, Any]] = []
    by_kind: dict[str, list[str]] = {}
    irsa_bindings: list[tuple[str, str, str]] = []  # namespace, service account, role arn
    for index, kind in enumerate(plan):
        team = teams[index % len(teams)]
        name = f"{team}-{kind}-{index:05d}"
        arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
        namespace = namespaces[index % len(namespaces)]
        sa = f"{team}-sa-{index:05d}"
        attached: list[dict[str, str]] = []
        for path in _AWS_BUNDLED.get(kind, ()):
            aws_used[path] = None
            attached.append(
                {
                    "PolicyName": path.rsplit("/", 1)[-1],
                    "PolicyArn": f"arn:aws:iam::aws:policy/{path}",
                }
            )
        if kind == "instance" and rng.random() < 0.2:
            aws_used["AmazonS3FullAccess"] = None
            attached.append(
                {
                    "PolicyName": "AmazonS3FullAccess",
                    "PolicyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess",
                }
            )
        if kind == "instance" and rng.random() < 0.15:
            attached.append(
                {"PolicyName": _AWS_MISSING, "PolicyArn": f"arn:aws:iam::aws:policy/{_AWS_MISSING}"}
            )
        if kind == "other" and rng.random() < 0.3:
            aws_used["AdministratorAccess"] = None
            attached.append(
                {
                    "PolicyName": "AdministratorAccess",
                    "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
                }
            )
        if kind in ("task", "irsa", "lambda") and rng.random() < 0.05:
            aws_used["AmazonSQSFullAccess"] = None
            attached.append(
                {
                    "PolicyName": "AmazonSQSFullAccess",
                    "PolicyArn": "arn:aws:iam::aws:policy/AmazonSQSFullAccess",
                }
            )
        if kind in ("task", "irsa", "lambda", "other"):
            for policy in rng.sample(customer, k=rng.choice((0, 1, 1, 2, 3))):
                policy["AttachmentCount"] += 1
                attached.append({"PolicyName": policy["PolicyName"], "PolicyArn": policy["Arn"]})
        inline: list[dict[str, Any]] = []
        n_inline = {
            "task": rng.randint(1, 2),
            "exec": 1,
            "irsa": rng.randint(1, 2),
            "lambda": 1,
            "other": 1,
        }.get(kind, 0)
        for p in range(n_inline):
            if kind == "exec":
                statements = [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "secretsmanager:GetSecretValue",
                            "ssm:GetParameters",
                            "kms:Decrypt",
                        ],
                        "Resource": "*"
                        if rng.random() < 0.3
                        else [_resource(rng, "secretsmanager", team, index % 40)],
                    }
                ]
            else:
                statements = _statements(rng, team, rng.randint(1, 5))
            inline.append({"PolicyName": f"{name}-inline-{p}", "PolicyDocument": _doc(statements)})
        role: dict[str, Any] = {
            "Path": "/",
            "RoleName": name,
            "RoleId": f"AROA{index:016d}",
            "Arn": arn,
            "CreateDate": "2024-01-09T15:20:00Z",
            "AssumeRolePolicyDocument": _trust(kind, rng, namespace, sa),
            "InstanceProfileList": [],
            "RolePolicyList": inline,
            "AttachedManagedPolicies": attached,
            "Tags": [{"Key": "team", "Value": team}],
            "RoleLastUsed": {"LastUsedDate": "2025-11-20T07:55:12Z", "Region": REGION},
        }
        if kind in ("task", "irsa", "lambda") and rng.random() < 0.3:
            boundary = rng.choice(boundaries)
            role["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": boundary["Arn"],
            }
        if kind in ("instance", "node"):
            role["InstanceProfileList"] = [
                {
                    "Path": "/",
                    "InstanceProfileName": name,
                    "InstanceProfileId": f"AIPA{index:016d}",
                    "Arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/{name}",
                    "CreateDate": "2023-02-14T08:12:44Z",
                    "Roles": [
                        {"Path": "/", "RoleName": name, "RoleId": f"AROA{index:016d}", "Arn": arn}
                    ],
                }
            ]
        if kind == "irsa":
            irsa_bindings.append((namespace, sa, arn))
        by_kind.setdefault(kind, []).append(name)
        role_list.append(role)

    policies = customer + boundaries + [_aws_managed(p) for p in aws_used]
    dump = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": role_list,
        "Policies": policies,
    }

    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    dump_path = out / "account" / "authorization-details.json"
    dump_path.parent.mkdir(parents=True, exist_ok=True)
    dump_path.write_text(json.dumps(dump, indent=2) + "\n", encoding="utf-8")
    files.append(dump_path)

    # -- ECS: clusters (one stack each) and task definitions -----------------------------------
    n_clusters = max(1, tasks // 100)
    instance_roles = by_kind["instance"]
    ec2_by_cluster: dict[int, list[str]] = {c: [] for c in range(n_clusters)}
    taskdir = out / "taskdefs"
    taskdir.mkdir(exist_ok=True)
    for t in range(tasks):
        team = teams[t % len(teams)]
        family = f"{team}-svc-{t:05d}"
        fargate = rng.random() < 0.4
        task_role = by_kind["task"][t % len(by_kind["task"])] if rng.random() < 0.93 else None
        exec_role = by_kind["exec"][t % len(by_kind["exec"])]
        network = "awsvpc" if fargate else rng.choice(("bridge", "bridge", "awsvpc", "host"))
        containers: list[dict[str, Any]] = []
        for c in range(rng.randint(1, 3)):
            container: dict[str, Any] = {
                "name": "app" if c == 0 else f"sidecar-{c}",
                "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{family}:{rng.randint(1, 40)}.{rng.randint(0, 9)}",
                "cpu": 256,
                "memory": 512,
                "essential": c == 0,
                "portMappings": [
                    {
                        "containerPort": 8080 + c,
                        "hostPort": 0 if network == "bridge" else 8080 + c,
                        "protocol": "tcp",
                    }
                ],
                "environment": [{"name": "TEAM", "value": team}],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": f"/ecs/{family}",
                        "awslogs-region": REGION,
                        "awslogs-stream-prefix": f"c{c}",
                    },
                },
                "mountPoints": [],
                "volumesFrom": [],
            }
            if rng.random() < 0.4:
                container["secrets"] = [
                    {
                        "name": "DB_PASSWORD",
                        "valueFrom": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/{team}/db-Ab12Cd",
                    }
                ]
            if not fargate and rng.random() < 0.06:
                container["privileged"] = True
            if not fargate and rng.random() < 0.04:
                container["mountPoints"] = [
                    {
                        "sourceVolume": "docker-sock",
                        "containerPath": "/var/run/docker.sock",
                        "readOnly": True,
                    }
                ]
            containers.append(container)
        definition: dict[str, Any] = {
            "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:{1 + t % 17}",
            "family": family,
            "revision": 1 + t % 17,
            "status": "ACTIVE",
            "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{exec_role}",
            "networkMode": network,
            "containerDefinitions": containers,
            "volumes": [{"name": "docker-sock", "host": {"sourcePath": "/var/run/docker.sock"}}]
            if any(ct["mountPoints"] for ct in containers)
            else [],
            "placementConstraints": [],
            "compatibilities": ["EC2", "FARGATE"] if fargate else ["EC2"],
            "requiresCompatibilities": ["FARGATE"] if fargate else ["EC2"],
            "registeredAt": "2025-11-03T09:41:27.512000+00:00",
        }
        if task_role is not None:
            definition["taskRoleArn"] = f"arn:aws:iam::{ACCOUNT}:role/{task_role}"
        if fargate:
            definition["cpu"], definition["memory"] = "512", "1024"
        elif rng.random() < 0.05:
            definition["pidMode"] = "host"
        path = taskdir / f"{family}.json"
        path.write_text(
            json.dumps(
                {"taskDefinition": definition, "tags": [{"key": "team", "value": team}]}, indent=2
            )
            + "\n",
            encoding="utf-8",
        )
        files.append(path)
        if not fargate:
            ec2_by_cluster[t % n_clusters].append(family)

    stacks = out / "stacks"
    stacks.mkdir(exist_ok=True)
    for c in range(n_clusters):
        profile = instance_roles[c % len(instance_roles)]
        path = stacks / f"ecs-{c:03d}.yaml"
        path.write_text(_ecs_stack(rng, c, profile, ec2_by_cluster[c]), encoding="utf-8")
        files.append(path)
    if tasks:
        path = stacks / "eks.yaml"
        path.write_text(_eks_stack(rng, by_kind["node"]), encoding="utf-8")
        files.append(path)

    # -- Kubernetes: service accounts (IRSA) and deployments, one file per namespace ----------
    k8s = out / "k8s"
    k8s.mkdir(exist_ok=True)
    per_ns: dict[str, list[str]] = {}
    for namespace, sa, arn in irsa_bindings:
        host_network = "true" if rng.random() < 0.05 else "false"
        privileged = "true" if rng.random() < 0.05 else "false"
        per_ns.setdefault(namespace, []).append(
            f"""apiVersion: v1
kind: ServiceAccount
metadata:
  name: {sa}
  namespace: {namespace}
  annotations:
    eks.amazonaws.com/role-arn: {arn}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {sa}
  namespace: {namespace}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: {sa}
  template:
    metadata:
      labels:
        app: {sa}
    spec:
      serviceAccountName: {sa}
      hostNetwork: {host_network}
      containers:
        - name: app
          image: {ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{sa}:1.0.0
          securityContext:
            privileged: {privileged}
            allowPrivilegeEscalation: false
"""
        )
    for namespace, documents in sorted(per_ns.items()):
        path = k8s / f"{namespace}.yaml"
        path.write_text("---\n".join(documents), encoding="utf-8")
        files.append(path)
    return Estate(root=out, dump=dump_path, roles=len(role_list), tasks=tasks, files=files)


_IMDS_CHOICES = (
    ("required", 1, True),  # hardened
    ("required", 2, False),  # IMDSv2 but a hop limit containers can reach
    ("optional", 1, False),  # IMDSv1 allowed
    ("optional", 2, False),
)


def _user_data(cluster: str, block: bool, iptables: bool) -> str:
    lines = [
        "#!/bin/bash",
        "cat >> /etc/ecs/ecs.config <<CFG",
        f"ECS_CLUSTER={cluster}",
        "ECS_ENABLE_TASK_IAM_ROLE=true",
    ]
    if block:
        lines.append("ECS_AWSVPC_BLOCK_IMDS=true")
    lines.append("CFG")
    if iptables:
        lines.append(
            "iptables --insert DOCKER-USER 1 --in-interface docker+ --destination 169.254.169.254/32 --jump DROP"
        )
    return base64.b64encode(("\n".join(lines) + "\n").encode()).decode()


def _ecs_stack(rng: random.Random, index: int, profile: str, families: list[str]) -> str:
    cluster = f"platform-{index:03d}"
    tokens, hops, block = rng.choice(_IMDS_CHOICES)
    user_data = _user_data(cluster, block, iptables=rng.random() < 0.2)
    lines = [
        'AWSTemplateFormatVersion: "2010-09-09"',
        f"Description: ECS cluster {cluster} on EC2 capacity",
        "Resources:",
        "  Cluster:",
        "    Type: AWS::ECS::Cluster",
        "    Properties:",
        f"      ClusterName: {cluster}",
        "  LaunchTemplate:",
        "    Type: AWS::EC2::LaunchTemplate",
        "    Properties:",
        "      LaunchTemplateData:",
        "        ImageId: ami-0123456789abcdef0",
        "        InstanceType: m7i.large",
        "        IamInstanceProfile:",
        f"          Arn: arn:aws:iam::{ACCOUNT}:instance-profile/{profile}",
        "        MetadataOptions:",
        "          HttpEndpoint: enabled",
        f"          HttpTokens: {tokens}",
        f"          HttpPutResponseHopLimit: {hops}",
        f"        UserData: {user_data}",
        "  AutoScalingGroup:",
        "    Type: AWS::AutoScaling::AutoScalingGroup",
        "    Properties:",
        '      MinSize: "1"',
        '      MaxSize: "10"',
        "      LaunchTemplate:",
        "        LaunchTemplateId: !Ref LaunchTemplate",
        "        Version: !GetAtt LaunchTemplate.LatestVersionNumber",
        "  CapacityProvider:",
        "    Type: AWS::ECS::CapacityProvider",
        "    Properties:",
        "      AutoScalingGroupProvider:",
        "        AutoScalingGroupArn: !Ref AutoScalingGroup",
        "  Associations:",
        "    Type: AWS::ECS::ClusterCapacityProviderAssociations",
        "    Properties:",
        "      Cluster: !Ref Cluster",
        "      CapacityProviders:",
        "        - !Ref CapacityProvider",
        "      DefaultCapacityProviderStrategy:",
        "        - CapacityProvider: !Ref CapacityProvider",
        "          Weight: 1",
    ]
    for n, family in enumerate(families):
        lines += [
            f"  Service{n:04d}:",
            "    Type: AWS::ECS::Service",
            "    Properties:",
            f"      ServiceName: {family}",
            "      Cluster: !Ref Cluster",
            f"      TaskDefinition: {family}",
            "      DesiredCount: 2",
            "      CapacityProviderStrategy:",
            "        - CapacityProvider: !Ref CapacityProvider",
            "          Weight: 1",
        ]
        if rng.random() < 0.1:
            lines.append("      EnableExecuteCommand: true")
    return "\n".join(lines) + "\n"


def _eks_stack(rng: random.Random, node_roles: list[str]) -> str:
    lines = [
        'AWSTemplateFormatVersion: "2010-09-09"',
        "Description: EKS clusters and managed node groups",
        "Resources:",
    ]
    for c in range(max(1, min(3, len(node_roles)))):
        tokens, hops, _ = rng.choice(_IMDS_CHOICES)
        lines += [
            f"  Eks{c}:",
            "    Type: AWS::EKS::Cluster",
            "    Properties:",
            f"      Name: apps-{c}",
            f"      RoleArn: arn:aws:iam::{ACCOUNT}:role/eks-cluster-service-role",
            "      ResourcesVpcConfig:",
            "        SubnetIds: [subnet-0a, subnet-0b]",
            f"  Eks{c}Template:",
            "    Type: AWS::EC2::LaunchTemplate",
            "    Properties:",
            "      LaunchTemplateData:",
            "        MetadataOptions:",
            f"          HttpTokens: {tokens}",
            f"          HttpPutResponseHopLimit: {hops}",
            f"  Eks{c}Nodes:",
            "    Type: AWS::EKS::Nodegroup",
            "    Properties:",
            f"      ClusterName: apps-{c}",
            f"      NodeRole: arn:aws:iam::{ACCOUNT}:role/{node_roles[c % len(node_roles)]}",
            "      Subnets: [subnet-0a, subnet-0b]",
            "      LaunchTemplate:",
            f"        Id: !Ref Eks{c}Template",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--roles", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="default: a new temporary folder")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="policyeval-estate-"))
    estate = generate(out, args.roles, args.tasks, args.seed)
    size = sum(p.stat().st_size for p in estate.files)
    print(
        f"{estate.root}: {estate.roles} roles, {estate.tasks} task definitions, {len(estate.files)} files, {size / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

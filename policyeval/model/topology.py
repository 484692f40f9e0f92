"""The deployment topology: roles, instance profiles, ECS, EKS, Lambda and ECR.

Every reader (`.pel`, task definitions, CloudFormation, Terraform, Kubernetes, account
dumps) produces these same nodes, so the resolver never cares where a fact came from.
References between nodes are kept as text (a name or an ARN) with a span and resolved
later in `model/workspace.py`; `None` means the input did not say, and `UNKNOWN` means the
input said something that could not be evaluated (an unresolved CloudFormation value,
say). The resolver treats both as the worst case where it matters.
"""

from __future__ import annotations

from dataclasses import field
from enum import StrEnum

from pydantic import ConfigDict
from pydantic.dataclasses import dataclass

from policyeval.errors import Span
from policyeval.model.expect import Need
from policyeval.model.policy import Policy

#: Validators are built on first use (`defer_build`): a pre-commit check of one policy file
#: never makes most of these nodes, and building them all costs a tenth of its start-up.
_FROZEN = ConfigDict(extra="forbid", arbitrary_types_allowed=True, defer_build=True)

#: A reference whose value the input could not give (e.g. `Fn::ImportValue`).
UNKNOWN = "<unknown>"


class LaunchType(StrEnum):
    EC2 = "EC2"
    FARGATE = "FARGATE"
    EXTERNAL = "EXTERNAL"


class NodeGroupKind(StrEnum):
    SELF_MANAGED = "self-managed"
    MANAGED = "managed"
    FARGATE = "fargate"


@dataclass(frozen=True, config=_FROZEN)
class Ref:
    """A reference to a named node: a name, an ARN, or `UNKNOWN`."""

    value: str
    span: Span | None = field(default=None, compare=False, repr=False)

    @property
    def is_unknown(self) -> bool:
        return self.value == UNKNOWN


@dataclass(frozen=True, config=_FROZEN)
class PolicyAttachment:
    """A managed policy attached to a role: by name, by ARN, or AWS-managed by name."""

    ref: str
    aws_managed: bool = False
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class ManagedPolicy:
    """A customer- or AWS-managed policy with its default version's document."""

    name: str
    arn: str
    document: Policy
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class Role:
    """An IAM role. `trust` is the assume-role policy; `inline` are its inline policies."""

    name: str
    arn: str | None = None
    trust: Policy | None = None
    managed: tuple[PolicyAttachment, ...] = ()
    inline: tuple[Policy, ...] = ()
    boundary: PolicyAttachment | None = None
    tags: tuple[tuple[str, str], ...] = ()
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class InstanceProfile:
    name: str
    arn: str | None = None
    role: Ref | None = None
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class MetadataOptions:
    """EC2 instance metadata settings. A field left `None` takes AWS's default, which the
    resolver decides (and reports) rather than the reader."""

    http_endpoint: str | None = None  # "enabled" | "disabled"
    http_tokens: str | None = None  # "optional" | "required"
    hop_limit: int | None = None
    http_protocol_ipv6: str | None = None
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class HostSettings:
    """What a host's user data or agent configuration says about credential exposure.

    `agent` holds `/etc/ecs/ecs.config` style settings (`ECS_AWSVPC_BLOCK_IMDS` …);
    `iptables_blocks_imds` is True when user data drops container traffic to IMDS, None when
    the input did not say.
    """

    agent: tuple[tuple[str, str], ...] = ()
    iptables_blocks_imds: bool | None = None
    span: Span | None = field(default=None, compare=False, repr=False)

    def agent_setting(self, name: str) -> str | None:
        for key, value in self.agent:
            if key == name:
                return value
        return None


@dataclass(frozen=True, config=_FROZEN)
class Capacity:
    """ECS capacity: an EC2 Auto Scaling group / capacity provider, Fargate, or External.

    For EC2, `instance_profile` links to the host role; for External, `host_role` is the
    SSM hybrid-activation role whose credentials sit in `/root/.aws` on the host.
    """

    name: str
    launch: LaunchType
    instance_profile: Ref | None = None
    host_role: Ref | None = None
    metadata: MetadataOptions | None = None
    host: HostSettings | None = None
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class HostMount:
    """A host path mounted into a container (`/var/run/docker.sock`, `/root/.aws` …)."""

    source_path: str
    container_path: str | None = None
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class Container:
    name: str
    image: str | None = None
    privileged: bool = False
    mounts: tuple[HostMount, ...] = ()
    secrets: tuple[Ref, ...] = ()  # valueFrom ARNs the execution role must read
    environment: tuple[tuple[str, str], ...] = ()
    needs: tuple[Need, ...] = ()
    span: Span | None = field(default=None, compare=False, repr=False)
    #: `environmentFiles` S3 object ARNs, read by the execution role at start-up (readers).
    environment_files: tuple[Ref, ...] = ()


@dataclass(frozen=True, config=_FROZEN)
class Task:
    """An ECS task definition, placed on a capacity when the input says where.

    `id` is stable and comes from the input's own names (family, CloudFormation logical ID,
    Terraform address, `.pel` name). `network_mode` None means the Linux default (bridge on
    EC2, awsvpc on Fargate).
    """

    id: str
    family: str
    task_role: Ref | None = None
    execution_role: Ref | None = None
    network_mode: str | None = None
    launch_type: LaunchType | None = None
    compatibilities: tuple[LaunchType, ...] = ()
    pid_mode: str | None = None
    ipc_mode: str | None = None
    containers: tuple[Container, ...] = ()
    cluster: str | None = None
    capacity: str | None = None
    enable_execute_command: bool = False
    needs: tuple[Need, ...] = ()
    # A task-definition file this task was declared from (`.pel` `definition "file.json"`),
    # recorded with its resolved path until the task-definition reader merges it in.
    definition: Ref | None = None
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class Service:
    """An ECS service: runs `task` on `capacity` (or with `launch_type`) in a cluster."""

    id: str
    name: str
    task: Ref
    cluster: str | None = None
    capacity: str | None = None
    launch_type: LaunchType | None = None
    enable_execute_command: bool = False
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class EcsCluster:
    id: str
    name: str
    capacities: tuple[Capacity, ...] = ()
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class NodeGroup:
    """An EKS node group. Fargate profiles are node groups of kind FARGATE whose `role` is the
    pod execution role (the platform's, never the pods')."""

    id: str
    name: str
    cluster: str
    kind: NodeGroupKind
    role: Ref | None = None
    instance_profile: Ref | None = None
    metadata: MetadataOptions | None = None
    host: HostSettings | None = None
    namespaces: tuple[str, ...] = ()  # Fargate profile selectors
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class ServiceAccount:
    namespace: str
    name: str
    cluster: str | None = None
    irsa_role: Ref | None = None
    pod_identity_role: Ref | None = None
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class Pod:
    """A pod or a pod template (Deployment, DaemonSet, StatefulSet, Job …)."""

    id: str
    namespace: str
    name: str
    kind: str = "Pod"
    cluster: str | None = None
    service_account: str | None = None
    node_group: str | None = None
    host_network: bool = False
    host_pid: bool = False
    privileged: bool = False
    host_paths: tuple[HostMount, ...] = ()
    needs: tuple[Need, ...] = ()
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class EksCluster:
    id: str
    name: str
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class Function:
    """A Lambda function; `resource_policy` says who may invoke it."""

    id: str
    name: str
    execution_role: Ref | None = None
    resource_policy: Policy | None = None
    triggers: tuple[str, ...] = ()
    needs: tuple[Need, ...] = ()
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class EcrRepository:
    id: str
    name: str
    policy: Policy | None = None
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, config=_FROZEN)
class OrgPolicyAttachment:
    """An SCP or RCP attached at one level of the organisation (root first, account last)."""

    kind: str  # "scp" | "rcp"
    level: int
    policy: str
    span: Span | None = field(default=None, compare=False, repr=False)

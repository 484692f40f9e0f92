"""Which credential sources each workload can reach, and why.

A workload's own credential (task role, IRSA, Pod Identity, Lambda execution role) plus
whatever host credential it can get at: the EC2 instance profile / node role through IMDS,
the ECS Anywhere role through a host mount, or anything once the container controls the
host. The decision procedure is the one of the IMDS reachability reference (ECS Developer
Guide "Task IAM role" and "Amazon EC2 security considerations"; EKS Best Practices
"Restrict access to the instance profile assigned to the worker node"; Knowledge Center
"ecs-container-ec2-metadata"), with AWS's real defaults where the input is silent.

Every verdict is one of True / False / "unknown"; "unknown" means an input link could not
be resolved and is treated as exposed by everything downstream. The reason says why and,
when a default or an assumption decided, which input would settle it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Literal

from policyeval.errors import Span
from policyeval.model.topology import (
    UNKNOWN,
    Capacity,
    Container,
    EcsCluster,
    Function,
    HostMount,
    HostSettings,
    LaunchType,
    MetadataOptions,
    NodeGroup,
    NodeGroupKind,
    Pod,
    Ref,
    Role,
    Service,
    ServiceAccount,
    Task,
)
from policyeval.model.workspace import Workspace

Reachable = bool | Literal["unknown"]


class SourceKind(StrEnum):
    TASK_ROLE = "task-role"
    EXECUTION_ROLE = "execution-role"
    INSTANCE_PROFILE = "instance-profile"
    NODE_ROLE = "node-role"
    IRSA = "irsa"
    POD_IDENTITY = "pod-identity"
    LAMBDA_EXECUTION_ROLE = "lambda-execution-role"
    HOST_ROLE = "host-role"


class WorkloadKind(StrEnum):
    TASK = "task"
    CONTAINER = "container"
    AGENT = "agent"
    NODE = "node"
    POD = "pod"
    FUNCTION = "function"


class Platform(StrEnum):
    ECS_EC2 = "ecs-ec2"
    ECS_FARGATE = "ecs-fargate"
    ECS_EXTERNAL = "ecs-external"
    EKS_EC2 = "eks-ec2"
    EKS_FARGATE = "eks-fargate"
    LAMBDA = "lambda"


#: Sources whose credentials sit on the host rather than being the workload's own.
HOST_SOURCES = frozenset({SourceKind.INSTANCE_PROFILE, SourceKind.NODE_ROLE, SourceKind.HOST_ROLE})


@dataclass(frozen=True, slots=True)
class CredentialSource:
    """One credential a workload can (or cannot) reach.

    `role` is the role's ARN when known, else its name, else the unresolved reference;
    None when nothing names it. `resolved` is the role found in the workspace (None when
    the link could not be resolved). `sdk_default` marks the credential a default AWS SDK
    inside the workload would pick (SDKs and Tools Reference Guide, "standardized
    credential providers"); raw HTTP is not bound by that order.
    """

    source: SourceKind
    role: str | None
    reachable: Reachable
    reason: str
    sdk_default: bool = False
    via: str | None = None  # the capacity / node group / service account it comes through
    resolved: Role | None = field(default=None, compare=False, repr=False)

    @property
    def exposed(self) -> bool:
        """True when the credential counts as reachable ("unknown" counts as reachable)."""
        return self.reachable is not False


@dataclass(frozen=True, slots=True)
class Workload:
    id: str
    kind: WorkloadKind
    platform: Platform
    credentials: tuple[CredentialSource, ...]
    notes: tuple[str, ...] = ()
    span: Span | None = field(default=None, compare=False, repr=False)


# -- IMDS: effective metadata options -----------------------------------------------------

_DEFAULTS_HELP = "give the launch template's MetadataOptions to settle it"


@dataclass(frozen=True, slots=True)
class _Metadata:
    """Metadata options after defaults; a field is "unknown" when the input gave a value
    that cannot be read (an unresolved template value, a typo)."""

    endpoint: str
    tokens: str
    hop_limit: int | Literal["unknown"]
    assumed: tuple[str, ...]  # defaults or guesses about tokens and hop limit
    endpoint_notes: tuple[str, ...] = ()  # defaults or guesses about HttpEndpoint


def effective_metadata(md: MetadataOptions | None) -> _Metadata:
    """Launch template / instance values, else RunInstances' defaults.

    RunInstances defaults: HttpEndpoint enabled, HttpTokens optional, hop limit 1 (EC2 API
    reference `InstanceMetadataOptionsRequest`; EC2 User Guide "Configure the instance
    metadata options"). AMIs with ImdsSupport v2.0 and the account-level IMDSv2 default give
    `required` with hop limit 2 instead; the reason names the assumption so the user can
    give the real values.
    """
    assumed: list[str] = []
    if md is None:
        assumed.append(
            "metadata options not given, so RunInstances defaults are assumed: endpoint "
            f"enabled, IMDSv2 optional, hop limit 1; {_DEFAULTS_HELP}"
        )
        return _Metadata("enabled", "optional", 1, tuple(assumed))
    endpoint_notes: list[str] = []

    endpoint = (md.http_endpoint or "").strip().lower()
    if not endpoint:
        endpoint = "enabled"
    elif endpoint not in ("enabled", "disabled"):
        endpoint_notes.append(f"HttpEndpoint `{md.http_endpoint}` cannot be read: assumed enabled")
        endpoint = "unknown"

    tokens = (md.http_tokens or "").strip().lower()
    if not tokens:
        tokens = "optional"
        assumed.append("HttpTokens not given: RunInstances default `optional` (IMDSv1 on) assumed")
    elif tokens not in ("optional", "required"):
        assumed.append(f"HttpTokens `{md.http_tokens}` cannot be read: assumed optional")
        tokens = "unknown"

    hop: int | Literal["unknown"]
    if md.hop_limit is None:
        hop = 1
        assumed.append(
            "HttpPutResponseHopLimit not given: RunInstances default 1 assumed "
            "(AMIs with ImdsSupport v2.0 and the account IMDSv2 default use 2)"
        )
    elif 1 <= md.hop_limit <= 64:
        hop = md.hop_limit
    else:
        assumed.append(f"hop limit `{md.hop_limit}` is outside 1-64: assumed 2 or more")
        hop = "unknown"
    return _Metadata(endpoint, tokens, hop, tuple(assumed), tuple(endpoint_notes))


def _is_true(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "true"


def _is_false(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "false"


# -- escapes to the host --------------------------------------------------------------------

_RUNTIME_SOCKETS = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
)


def _norm_path(path: str) -> str:
    parts = [p for p in path.strip().split("/") if p and p != "."]
    return "/" + "/".join(parts)


def _covers(mounted: str, target: str) -> bool:
    """True when mounting `mounted` exposes `target` (it is the target or an ancestor)."""
    m = _norm_path(mounted)
    t = _norm_path(target)
    return m in (t, "/") or t.startswith(m + "/")


def host_escapes(privileged: bool, host_pid: bool, mounts: Iterable[HostMount]) -> list[str]:
    """Why a container controls the host, so host credentials count as exposed regardless
    of IMDS settings (ECS task definition parameters `privileged`, `pidMode`; EKS Best
    Practices, pod security; a runtime socket can start a host-network container)."""
    reasons: list[str] = []
    if privileged:
        reasons.append("privileged container")
    if host_pid:
        reasons.append("host PID namespace")
    for mount in mounts:
        path = _norm_path(mount.source_path)
        if path == "/":
            reasons.append("mounts the host's `/`")
        elif any(_covers(path, sock) for sock in _RUNTIME_SOCKETS):
            reasons.append(f"mounts the container runtime socket through `{mount.source_path}`")
    return reasons


def _mounts_root_aws(mounts: Iterable[HostMount]) -> str | None:
    for mount in mounts:
        if _covers(mount.source_path, "/root/.aws") or _covers("/root/.aws", mount.source_path):
            return mount.source_path
    return None


# -- the IMDS verdict (§3.4 of the reference) -----------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    reachable: Reachable
    reason: str


#: Network modes `imds_verdict` reasons about; any other value is treated as possibly `host`.
_KNOWN_NETWORKS = frozenset({"bridge", "bridge-default", "host", "awsvpc", "none", "pod"})


def imds_verdict(
    *,
    ecs: bool,
    network: str,
    md: MetadataOptions | None,
    host: HostSettings | None,
    escapes: Sequence[str],
    what: str,
) -> Verdict:
    """Can code in this task / pod reach the host role through IMDS?

    `network` is the ECS network mode (`bridge`, `host`, `awsvpc`, `none`) or, for EKS,
    `pod` / `host` (hostNetwork). `what` names the credential in the reason.
    """
    meta = effective_metadata(md)
    settings = host or HostSettings()
    net_label = {
        "bridge": "bridge network",
        "bridge-default": "bridge network (the default on EC2 Linux)",
        "host": "host network" if ecs else "hostNetwork",
        "awsvpc": "awsvpc network",
        "none": "network mode none",
        "pod": "pod network",
    }.get(network, f"network `{network}`")
    reachable: Reachable
    if meta.endpoint == "disabled":
        # HttpEndpoint=disabled turns IMDS off for every process on the instance
        # (EC2 User Guide, "Configure the instance metadata options").
        reachable, why = False, "IMDS endpoint disabled (HttpEndpoint=disabled)"
    elif ecs and network == "none":
        # networkMode none: no external connectivity (ECS task definition parameters).
        reachable, why = False, f"{net_label}: no route to IMDS"
    elif network not in _KNOWN_NETWORKS:
        # An unresolved (UNKNOWN) or unmodelled network mode may be `host`, which no token or
        # hop setting blocks: assume the worse case, never a block we cannot see.
        reachable, why = "unknown", f"{net_label} is not known and may be the host network"
    elif network == "host":
        # Host networking shares the host's namespace; AWS: "not possible to prevent access
        # with host networking" (Knowledge Center ecs-container-ec2-metadata; EKS Auto Mode
        # docs for hostNetwork pods). No hop limit or IMDSv2 setting blocks it.
        reachable, why = True, f"{net_label}: IMDS is reachable whatever the token and hop settings"
    elif ecs and network == "awsvpc":
        # The documented control for awsvpc tasks is ECS_AWSVPC_BLOCK_IMDS (ECS Developer
        # Guide, "Amazon EC2 security considerations"; agent README). The task ENI has no
        # routed host hop, so the hop limit is not treated as a control (reference §3.2).
        if _is_true(settings.agent_setting("ECS_AWSVPC_BLOCK_IMDS")):
            reachable, why = False, f"{net_label}, ECS_AWSVPC_BLOCK_IMDS=true: IMDS is blocked"
        else:
            reachable, why = (
                True,
                f"{net_label}, ECS_AWSVPC_BLOCK_IMDS not set: IMDS is reachable "
                "(the hop limit is not a documented control for awsvpc tasks)",
            )
    else:
        # Bridge-mode ECS containers and normal EKS pods sit one hop behind the host: IMDSv1
        # (HttpTokens optional) answers any hop count, IMDSv2 tokens need hop limit >= 2
        # (EC2 User Guide "Use the Instance Metadata Service", IMDS considerations; EKS Best
        # Practices "Restrict access to the instance profile").
        if meta.tokens == "optional":
            reachable, why = True, f"{net_label}, IMDSv1 enabled (HttpTokens optional)"
        elif meta.tokens == "unknown":
            reachable, why = "unknown", f"{net_label}, HttpTokens unknown"
        elif meta.hop_limit == "unknown":
            reachable, why = "unknown", f"{net_label}, IMDSv2 required, hop limit unknown"
        elif meta.hop_limit >= 2:
            reachable, why = (
                True,
                f"{net_label}, IMDSv2 required with hop limit {meta.hop_limit} (the IMDSv2 "
                "token reaches the container)",
            )
        else:
            reachable, why = (
                False,
                f"{net_label}, IMDSv2 required with hop limit 1 (the IMDSv2 token never "
                "reaches the container)",
            )
        if reachable is not False and settings.iptables_blocks_imds is True:
            # iptables DROP from docker+/eni+ to 169.254.169.254 (ECS Developer Guide "Task
            # IAM role"; EKS User Guide "Restrict access to the instance profile").
            reachable, why = False, f"{net_label}, iptables drops container traffic to IMDS"
    if reachable is not False and meta.endpoint == "unknown":
        reachable = "unknown"
    verdict = f"{why}: the {what} is {_word(reachable)}"
    if escapes:
        # Reference §3.2: privileged / host PID / host `/` or runtime-socket mounts expose
        # the host credentials regardless of the table above (a runtime socket can start a
        # host-network container).
        if reachable is not True:
            verdict = (
                f"{', '.join(escapes)}: the container controls the host, so the {what} is "
                f"reachable whatever the IMDS settings ({why})"
            )
        else:
            verdict += f"; also {', '.join(escapes)}"
        reachable = True
    notes = list(meta.endpoint_notes)
    if network not in ("host", "awsvpc", "none"):
        notes.extend(meta.assumed)
    if reachable == "unknown":
        notes.append("treated as exposed")
    if notes:
        verdict += " (" + "; ".join(notes) + ")"
    return Verdict(reachable, verdict)


def _word(reachable: Reachable) -> str:
    if reachable is True:
        return "reachable"
    if reachable is False:
        return "not reachable"
    return "possibly reachable"


# -- role links ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _RoleLink:
    role: Role | None
    label: str | None
    problem: str | None  # why the link could not be resolved


def _role_label(role: Role) -> str:
    return role.arn or role.name


def _resolve_role(ws: Workspace, ref: Ref | None, what: str) -> _RoleLink:
    if ref is None:
        return _RoleLink(None, None, f"no {what} is given")
    if ref.is_unknown:
        return _RoleLink(None, None, f"the {what} could not be resolved from the input")
    role = ws.find_role(ref)
    if role is None:
        return _RoleLink(None, ref.value, f"role `{ref.value}` is not in the inputs")
    return _RoleLink(role, _role_label(role), None)


def _resolve_profile_role(ws: Workspace, ref: Ref | None) -> _RoleLink:
    if ref is None:
        return _RoleLink(None, None, "no instance profile is given")
    if ref.is_unknown:
        return _RoleLink(None, None, "the instance profile could not be resolved from the input")
    profile = ws.find_instance_profile(ref)
    if profile is None:
        return _RoleLink(None, None, f"instance profile `{ref.value}` is not in the inputs")
    return _resolve_role(ws, profile.role, f"role of instance profile `{profile.name}`")


def _node_role(ws: Workspace, group: NodeGroup) -> _RoleLink:
    if group.role is not None:
        return _resolve_role(ws, group.role, f"role of node group `{group.name}`")
    if group.instance_profile is not None:
        return _resolve_profile_role(ws, group.instance_profile)
    return _RoleLink(None, None, f"node group `{group.name}` names no role or instance profile")


def _linked(
    source: SourceKind,
    link: _RoleLink,
    verdict: Verdict,
    *,
    via: str | None = None,
    sdk_default: bool = False,
    settle: str = "",
) -> CredentialSource:
    """A credential from a role link and a reachability verdict; an unresolved link makes a
    reachable verdict "unknown" (treated as exposed) with a note saying what would settle it."""
    reachable = verdict.reachable
    reason = verdict.reason
    if link.problem is not None and reachable is not False:
        reachable = "unknown"
        reason += f"; {link.problem}, so the role and its permissions are unknown"
        if settle:
            reason += f" ({settle})"
    return CredentialSource(
        source=source,
        role=link.label,
        reachable=reachable,
        reason=reason,
        sdk_default=sdk_default and reachable is not False,
        via=via,
        resolved=link.role,
    )


def _own_role(
    ws: Workspace, source: SourceKind, ref: Ref, reason: str, *, sdk_default: bool = True
) -> CredentialSource:
    link = _resolve_role(ws, ref, source.value)
    if link.problem is not None:
        return CredentialSource(
            source,
            link.label,
            "unknown",
            f"{reason}; {link.problem}, so its permissions are unknown (treated as exposed)",
            sdk_default=sdk_default,
            resolved=None,
        )
    return CredentialSource(
        source, link.label, True, reason, sdk_default=sdk_default, resolved=link.role
    )


# -- ECS -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Placement:
    launch: LaunchType
    cluster: EcsCluster | None
    capacities: tuple[Capacity, ...]  # every capacity the task may run on
    problem: str | None
    notes: tuple[str, ...]


def _cluster_matches(cluster: EcsCluster, name: str | None) -> bool:
    if name is None:
        return True
    return name in (cluster.id, cluster.name) or name.rsplit("/", 1)[-1] == cluster.name


def _services_of_task(ws: Workspace, task: Task) -> list[Service]:
    """The services that name the task (by id, family, or an ARN / `family:rev` ending in
    `/family`), in input order; looked up in an index built once per workspace."""
    family = task.family
    if not isinstance(family, str) or "/" in family or not family:
        return [
            s
            for s in ws.services
            if s.task.value in (task.id, task.family) or s.task.value.endswith(f"/{task.family}")
        ]
    by_value, by_tail = ws.memo("credentials:services-by-task-ref", lambda: _service_index(ws))
    positions = {
        *by_value.get(task.id, ()),
        *by_value.get(family, ()),
        *by_tail.get(family, ()),
    }
    return [ws.services[p] for p in sorted(positions)]


def _service_index(ws: Workspace) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """(task reference → service positions, text after the reference's last `/` →
    positions of services whose reference has a `/`)."""
    by_value: dict[str, list[int]] = {}
    by_tail: dict[str, list[int]] = {}
    for position, service in enumerate(ws.services):
        value = service.task.value
        by_value.setdefault(value, []).append(position)
        if "/" in value:
            by_tail.setdefault(value.rsplit("/", 1)[1], []).append(position)
    return by_value, by_tail


def _place_task(ws: Workspace, task: Task) -> _Placement:
    """Where a task runs: its own launch type / capacity, else a service's, else its
    compatibilities. Unknown placement is treated as EC2, the worst case."""
    services = _services_of_task(ws, task)
    cluster_name = task.cluster or next((s.cluster for s in services if s.cluster), None)
    capacity_name = task.capacity or next((s.capacity for s in services if s.capacity), None)
    launch = task.launch_type or next((s.launch_type for s in services if s.launch_type), None)
    clusters = [c for c in ws.ecs_clusters if _cluster_matches(c, cluster_name)]
    cluster = clusters[0] if len(clusters) == 1 else None
    notes: list[str] = []
    if capacity_name is not None:
        found = [cap for c in clusters for cap in c.capacities if cap.name == capacity_name]
        if found:
            cap = found[0]
            owner = next((c for c in clusters if cap in c.capacities), cluster)
            return _Placement(launch or cap.launch, owner, (cap,), None, ())
        if launch is None:
            launch = LaunchType.EC2
            notes.append(f"capacity `{capacity_name}` not found: assumed EC2")
        if launch is LaunchType.FARGATE:
            return _Placement(launch, cluster, (), None, tuple(notes))
        return _Placement(
            launch, cluster, (), f"capacity `{capacity_name}` is not in the inputs", tuple(notes)
        )
    if launch is None:
        compat = set(task.compatibilities)
        if compat == {LaunchType.FARGATE}:
            launch = LaunchType.FARGATE
        elif compat == {LaunchType.EXTERNAL}:
            launch = LaunchType.EXTERNAL
        else:
            launch = LaunchType.EC2
            notes.append("launch type not given: EC2 assumed (the worst case for host credentials)")
    if launch is LaunchType.FARGATE:
        return _Placement(launch, cluster, (), None, tuple(notes))
    candidates = tuple(cap for c in clusters for cap in c.capacities if cap.launch is launch)
    if candidates:
        if len(candidates) > 1:
            notes.append(
                "capacity not given: the task may run on any matching capacity of its cluster"
            )
        return _Placement(launch, cluster, candidates, None, tuple(notes))
    return _Placement(launch, cluster, (), "the task's capacity is not given", tuple(notes))


_PLATFORM = {
    LaunchType.EC2: Platform.ECS_EC2,
    LaunchType.FARGATE: Platform.ECS_FARGATE,
    LaunchType.EXTERNAL: Platform.ECS_EXTERNAL,
}


def _network_of(task: Task, launch: LaunchType) -> str:
    mode = (task.network_mode or "").strip().lower()
    if not mode:
        # Absent networkMode is bridge on Linux EC2 (ECS task definition parameters).
        return "awsvpc" if launch is LaunchType.FARGATE else "bridge-default"
    if mode == "default":
        return "bridge-default"
    return mode


def _task_role_source(
    ws: Workspace,
    task: Task,
    launch: LaunchType,
    network: str,
    settings: Iterable[HostSettings | None],
) -> CredentialSource | None:
    if task.task_role is None:
        return None
    base = (
        "delivered to every container of the task through the container credentials endpoint "
        "(169.254.170.2 + AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)"
    )
    if network == "none":
        # networkMode none: only loopback, so 169.254.170.2 is unreachable (ECS task definition
        # parameters, `networkMode`).
        link = _resolve_role(ws, task.task_role, "task role")
        return CredentialSource(
            SourceKind.TASK_ROLE,
            link.label,
            False,
            "network mode none: the container credentials endpoint is unreachable",
            resolved=link.role,
        )
    if launch is not LaunchType.FARGATE:
        # ECS_ENABLE_TASK_IAM_ROLE(_NETWORK_HOST) decide whether the agent delivers task-role
        # credentials; ecs-init sets both true (agent README; reference §2.1).
        flag = (
            "ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST"
            if network == "host"
            else "ECS_ENABLE_TASK_IAM_ROLE"
        )
        if all(s is not None and _is_false(s.agent_setting(flag)) for s in settings):
            link = _resolve_role(ws, task.task_role, "task role")
            return CredentialSource(
                SourceKind.TASK_ROLE,
                link.label,
                False,
                f"{flag}=false on the host: the agent does not deliver task-role credentials",
                resolved=link.role,
            )
    return _own_role(ws, SourceKind.TASK_ROLE, task.task_role, base)


def _execution_role_source(
    ws: Workspace, task: Task, launch: LaunchType
) -> CredentialSource | None:
    if task.execution_role is None:
        return None
    link = _resolve_role(ws, task.execution_role, "execution role")
    who = "the Fargate agent" if launch is LaunchType.FARGATE else "the ECS container agent"
    # "The task execution role … credentials are not directly accessible to containers"
    # (ECS Developer Guide, "Amazon ECS task execution IAM role").
    return CredentialSource(
        SourceKind.EXECUTION_ROLE,
        link.label,
        False,
        f"used by {who} for image pulls, logs and secrets; never delivered to the task's "
        "containers",
        resolved=link.role,
    )


def _host_sources_ecs(
    ws: Workspace,
    task: Task,
    placement: _Placement,
    *,
    network: str,
    escapes: Sequence[str],
    mounts: Sequence[HostMount],
    privileged: bool,
) -> list[CredentialSource]:
    no_task_role = task.task_role is None
    if placement.launch is LaunchType.FARGATE:
        return []  # no instance profile for containers on Fargate (ECS DG "Task IAM role")
    if placement.launch is LaunchType.EXTERNAL:
        return [
            _anywhere_source(ws, cap, mounts, privileged, escapes) for cap in placement.capacities
        ] or [
            _linked(
                SourceKind.HOST_ROLE,
                _RoleLink(None, None, placement.problem or "the external capacity is not given"),
                _anywhere_verdict(mounts, privileged, escapes),
                settle="name the task's capacity",
            )
        ]
    results: list[CredentialSource] = []
    what = "instance profile"
    for cap in placement.capacities or (None,):
        md = cap.metadata if cap else None
        host = cap.host if cap else None
        verdict = imds_verdict(
            ecs=True, network=network, md=md, host=host, escapes=escapes, what=what
        )
        if no_task_role and verdict.reachable is not False:
            # No taskRoleArn: the SDK finds no container credentials and falls through to IMDS
            # (Knowledge Center "ecs-iam-task-roles-config-errors"; reference §2.12).
            verdict = Verdict(
                verdict.reachable,
                verdict.reason
                + "; the task has no task role, so the SDK itself uses the instance profile",
            )
        if cap is None:
            link = _RoleLink(None, None, placement.problem or "the task's capacity is not given")
        else:
            link = _resolve_profile_role(ws, cap.instance_profile)
        results.append(
            _linked(
                SourceKind.INSTANCE_PROFILE,
                link,
                verdict,
                via=cap.name if cap else None,
                sdk_default=no_task_role,
                settle="name the capacity and its instance profile"
                if cap is None
                else "add the instance profile and its role",
            )
        )
    return results


def _anywhere_verdict(
    mounts: Sequence[HostMount], privileged: bool, escapes: Sequence[str]
) -> Verdict:
    # ECS Anywhere: the SSM agent writes the role's credentials to /root/.aws on the host
    # (agent ecs-init `externalEnvCredsHostDir`); no IMDS on-prem. A container reaches them
    # by mounting that directory or by controlling the host (reference §2.4, §3.4).
    mounted = _mounts_root_aws(mounts)
    if mounted is not None:
        return Verdict(
            True,
            f"mounts `{mounted}` from the host, where SSM writes the Anywhere role's credentials "
            "(/root/.aws): the host role is reachable",
        )
    if privileged or escapes:
        why = ", ".join(escapes) if escapes else "privileged container"
        return Verdict(
            True,
            f"{why}: the container controls the host and can read /root/.aws, so the host role "
            "is reachable",
        )
    return Verdict(
        False,
        "external instance, /root/.aws not mounted and not privileged: the host role is not "
        "reachable",
    )


def _anywhere_source(
    ws: Workspace,
    cap: Capacity,
    mounts: Sequence[HostMount],
    privileged: bool,
    escapes: Sequence[str],
) -> CredentialSource:
    link = _resolve_role(ws, cap.host_role, f"host role of capacity `{cap.name}`")
    return _linked(
        SourceKind.HOST_ROLE,
        link,
        _anywhere_verdict(mounts, privileged, escapes),
        via=cap.name,
        settle="give the capacity's SSM activation role",
    )


def _task_workloads(ws: Workspace, task: Task) -> list[Workload]:
    placement = _place_task(ws, task)
    platform = _PLATFORM[placement.launch]
    network = _network_of(task, placement.launch)
    settings = [cap.host for cap in placement.capacities] or [None]
    host_pid = (task.pid_mode or "").lower() == "host"

    def credentials(containers: Sequence[Container]) -> tuple[CredentialSource, ...]:
        privileged = any(c.privileged for c in containers)
        mounts = [m for c in containers for m in c.mounts]
        escapes = (
            host_escapes(privileged, host_pid, mounts)
            if placement.launch is not LaunchType.FARGATE
            else []
        )
        found: list[CredentialSource] = []
        task_role = _task_role_source(ws, task, placement.launch, network, settings)
        if task_role is not None:
            found.append(task_role)
        execution = _execution_role_source(ws, task, placement.launch)
        if execution is not None:
            found.append(execution)
        found.extend(
            _host_sources_ecs(
                ws,
                task,
                placement,
                network=network,
                escapes=escapes,
                mounts=mounts,
                privileged=privileged,
            )
        )
        return tuple(found)

    notes = placement.notes
    result = [
        Workload(
            task.id, WorkloadKind.TASK, platform, credentials(task.containers), notes, task.span
        )
    ]
    for container in task.containers:
        result.append(
            Workload(
                f"{task.id}/{container.name}",
                WorkloadKind.CONTAINER,
                platform,
                credentials((container,)),
                notes,
                container.span,
            )
        )
    return result


def _agent_workloads(
    ws: Workspace, placements: Sequence[tuple[Task, _Placement]]
) -> list[Workload]:
    """The ECS container agent of each EC2 / External capacity: it holds the host credential
    and fetches the execution roles of the tasks placed there."""
    result: list[Workload] = []
    for cluster in ws.ecs_clusters:
        for cap in cluster.capacities:
            if cap.launch is LaunchType.FARGATE:
                continue
            found: list[CredentialSource] = []
            if cap.launch is LaunchType.EXTERNAL:
                link = _resolve_role(ws, cap.host_role, f"host role of capacity `{cap.name}`")
                found.append(
                    _linked(
                        SourceKind.HOST_ROLE,
                        link,
                        Verdict(
                            True,
                            "ecs-init mounts /root/.aws, where SSM writes the Anywhere role's "
                            "credentials, into the agent",
                        ),
                        via=cap.name,
                        sdk_default=True,
                    )
                )
                platform = Platform.ECS_EXTERNAL
            else:
                meta = effective_metadata(cap.metadata)
                if meta.endpoint == "disabled":
                    verdict = Verdict(
                        False,
                        "IMDS endpoint disabled (HttpEndpoint=disabled): the agent cannot get "
                        "the instance profile either",
                    )
                else:
                    verdict = Verdict(
                        True,
                        "the ECS container agent runs on the host and reads the instance "
                        "profile from IMDS",
                    )
                found.append(
                    _linked(
                        SourceKind.INSTANCE_PROFILE,
                        _resolve_profile_role(ws, cap.instance_profile),
                        verdict,
                        via=cap.name,
                        sdk_default=True,
                        settle="add the instance profile and its role",
                    )
                )
                platform = Platform.ECS_EC2
            seen: set[str] = set()
            for task, placement in placements:
                if cap not in placement.capacities or task.execution_role is None:
                    continue
                link = _resolve_role(ws, task.execution_role, "execution role")
                key = link.label or task.execution_role.value
                if key in seen:
                    continue
                seen.add(key)
                # The agent receives the execution role's credentials for image pulls, logs and
                # secrets (ECS Developer Guide, "Amazon ECS task execution IAM role").
                found.append(
                    _linked(
                        SourceKind.EXECUTION_ROLE,
                        link,
                        Verdict(
                            True,
                            f"the agent fetches it for task `{task.id}` (image pulls, logs, "
                            "secrets)",
                        ),
                        via=task.id,
                    )
                )
            result.append(
                Workload(
                    f"agent:{cluster.name}/{cap.name}",
                    WorkloadKind.AGENT,
                    platform,
                    tuple(found),
                    (),
                    cap.span,
                )
            )
    return result


# -- EKS -------------------------------------------------------------------------------------


def _same_cluster(a: str | None, b: str | None, ws: Workspace) -> bool:
    if a is None or b is None:
        return True
    if a == b:
        return True
    names = {a, b}
    return any(names <= {c.id, c.name} for c in ws.eks_clusters)


def _pod_nodes(ws: Workspace, pod: Pod) -> tuple[list[NodeGroup], str | None, str | None]:
    """The node groups a pod may be scheduled on, a note, and a problem when unresolved."""
    groups = [g for g in ws.node_groups if _same_cluster(g.cluster, pod.cluster, ws)]
    if pod.node_group is not None:
        named = [g for g in groups if pod.node_group in (g.id, g.name)]
        if named:
            return named[:1], None, None
        return [], None, f"node group `{pod.node_group}` is not in the inputs"
    fargate = [
        g for g in groups if g.kind is NodeGroupKind.FARGATE and pod.namespace in g.namespaces
    ]
    if fargate:
        # Pods matching a Fargate profile's selectors are scheduled on Fargate (EKS User Guide,
        # "Fargate profile"); labels are not modelled, so the namespace decides.
        return (
            fargate[:1],
            f"namespace `{pod.namespace}` is selected by Fargate profile `{fargate[0].name}`",
            None,
        )
    ec2 = [g for g in groups if g.kind is not NodeGroupKind.FARGATE]
    if ec2:
        note = (
            "node group not given: the pod may be scheduled on any node group of its cluster"
            if len(ec2) > 1
            else None
        )
        return ec2, note, None
    return [], None, "the pod's node group is not given"


def _find_service_account(ws: Workspace, pod: Pod) -> ServiceAccount | None:
    name = pod.service_account or "default"
    for sa in ws.service_accounts:
        if (
            sa.namespace == pod.namespace
            and sa.name == name
            and _same_cluster(sa.cluster, pod.cluster, ws)
        ):
            return sa
    return None


def _pod_workload(ws: Workspace, pod: Pod) -> Workload:
    groups, note, problem = _pod_nodes(ws, pod)
    on_fargate = bool(groups) and groups[0].kind is NodeGroupKind.FARGATE
    platform = Platform.EKS_FARGATE if on_fargate else Platform.EKS_EC2
    notes = [note] if note else []
    found: list[CredentialSource] = []
    sa = _find_service_account(ws, pod)
    sa_label = f"{pod.namespace}/{pod.service_account or 'default'}"
    has_irsa = sa is not None and sa.irsa_role is not None
    if sa is not None and sa.irsa_role is not None:
        # The pod identity webhook injects AWS_ROLE_ARN + a projected token; the SDK calls
        # AssumeRoleWithWebIdentity (EKS User Guide "IAM roles for service accounts"); web
        # identity comes before the container provider in the SDK chain.
        src = _own_role(
            ws,
            SourceKind.IRSA,
            sa.irsa_role,
            f"service account `{sa_label}` is annotated eks.amazonaws.com/role-arn: the webhook "
            "injects "
            "AWS_ROLE_ARN and a web identity token (the role's trust policy decides who may "
            "assume it)",
        )
        found.append(replace(src, via=sa_label))
    if sa is not None and sa.pod_identity_role is not None:
        link = _resolve_role(ws, sa.pod_identity_role, "Pod Identity role")
        if on_fargate:
            # "EKS Pod Identities are not supported on Fargate" (EKS User Guide, Pod Identity).
            found.append(
                CredentialSource(
                    SourceKind.POD_IDENTITY,
                    link.label,
                    False,
                    "Pod Identity is not supported on Fargate",
                    via=sa_label,
                    resolved=link.role,
                )
            )
        else:
            src = _own_role(
                ws,
                SourceKind.POD_IDENTITY,
                sa.pod_identity_role,
                f"Pod Identity association for `{sa_label}`: the EKS Pod Identity Agent serves "
                "it at 169.254.170.23",
                sdk_default=not has_irsa,
            )
            found.append(replace(src, via=sa_label))
    own = any(
        c.source in (SourceKind.IRSA, SourceKind.POD_IDENTITY) and c.reachable is not False
        for c in found
    )
    if on_fargate:
        profile = groups[0]
        link = _resolve_role(ws, profile.role, "pod execution role")
        # The pod execution role is the Fargate infrastructure's (image pulls, node
        # registration); pods on Fargate have no IMDS (EKS User Guide "Fargate pod execution role").
        if profile.role is not None:
            found.append(
                CredentialSource(
                    SourceKind.EXECUTION_ROLE,
                    link.label,
                    False,
                    "pod execution role of Fargate profile: used by the Fargate infrastructure, "
                    "never delivered to pods (no IMDS on Fargate)",
                    via=profile.name,
                    resolved=link.role,
                )
            )
        return Workload(pod.id, WorkloadKind.POD, platform, tuple(found), tuple(notes), pod.span)
    escapes = host_escapes(pod.privileged, pod.host_pid, pod.host_paths)
    network = "host" if pod.host_network else "pod"
    candidates: list[NodeGroup | None] = list(groups) or [None]
    for group in candidates:
        verdict = imds_verdict(
            ecs=False,
            network=network,
            md=group.metadata if group else None,
            host=group.host if group else None,
            escapes=escapes,
            what="node role",
        )
        if not own and verdict.reachable is not False:
            # No IRSA / Pod Identity: the SDK falls through to IMDS (reference §2.12).
            verdict = Verdict(
                verdict.reachable,
                verdict.reason
                + "; the pod has no IRSA or Pod Identity role, so the SDK itself uses the "
                "node role",
            )
        link = (
            _node_role(ws, group)
            if group
            else _RoleLink(None, None, problem or "the pod's node group is not given")
        )
        found.append(
            _linked(
                SourceKind.NODE_ROLE,
                link,
                verdict,
                via=group.name if group else None,
                sdk_default=not own,
                settle="name the node group and its role" if group is None else "add the node role",
            )
        )
    return Workload(pod.id, WorkloadKind.POD, platform, tuple(found), tuple(notes), pod.span)


def _node_workload(ws: Workspace, group: NodeGroup) -> Workload:
    meta = effective_metadata(group.metadata)
    if meta.endpoint == "disabled":
        verdict = Verdict(
            False,
            "IMDS endpoint disabled (HttpEndpoint=disabled): node components cannot get the "
            "node role either",
        )
    else:
        # kubelet and node components use the node role from IMDS (EKS User Guide, "Amazon
        # EKS node IAM role").
        verdict = Verdict(
            True, "kubelet and node components read the node role from IMDS on the host"
        )
    cred = _linked(
        SourceKind.NODE_ROLE,
        _node_role(ws, group),
        verdict,
        via=group.name,
        sdk_default=True,
        settle="add the node role",
    )
    return Workload(
        f"node:{group.cluster}/{group.name}",
        WorkloadKind.NODE,
        Platform.EKS_EC2,
        (cred,),
        (),
        group.span,
    )


# -- Lambda ----------------------------------------------------------------------------------


def _function_workload(ws: Workspace, function: Function) -> Workload:
    found: list[CredentialSource] = []
    if function.execution_role is not None:
        # Lambda assumes the execution role and exposes the session as environment variables;
        # there is no IMDS in Lambda (Lambda Developer Guide, "execution role").
        found.append(
            _own_role(
                ws,
                SourceKind.LAMBDA_EXECUTION_ROLE,
                function.execution_role,
                "Lambda assumes it and puts the session in AWS_ACCESS_KEY_ID / AWS_SESSION_TOKEN",
            )
        )
    notes = () if found else ("no execution role is given",)
    return Workload(
        function.id, WorkloadKind.FUNCTION, Platform.LAMBDA, tuple(found), notes, function.span
    )


# -- entry point -----------------------------------------------------------------------------


def resolve_credentials(ws: Workspace) -> tuple[Workload, ...]:
    """Every workload of the workspace with the credential sources it can reach, in input
    order: tasks and their containers, ECS agents, pods, EKS nodes, Lambda functions."""
    result: list[Workload] = []
    placements: list[tuple[Task, _Placement]] = []
    for task in ws.tasks:
        placements.append((task, _place_task(ws, task)))
        result.extend(_task_workloads(ws, task))
    result.extend(_agent_workloads(ws, placements))
    for pod in ws.pods:
        result.append(_pod_workload(ws, pod))
    for group in ws.node_groups:
        if group.kind is not NodeGroupKind.FARGATE:
            result.append(_node_workload(ws, group))
    for function in ws.functions:
        result.append(_function_workload(ws, function))
    return tuple(result)


__all__ = [
    "HOST_SOURCES",
    "UNKNOWN",
    "CredentialSource",
    "Platform",
    "Reachable",
    "SourceKind",
    "Verdict",
    "Workload",
    "WorkloadKind",
    "effective_metadata",
    "host_escapes",
    "imds_verdict",
    "resolve_credentials",
]

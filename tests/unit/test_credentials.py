"""Which credential sources each workload reaches: DESIGN §4's table and every IMDS control.

References: ECS Developer Guide "Task IAM role" and "Amazon EC2 security considerations"
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html);
Knowledge Center "ecs-container-ec2-metadata"; EKS Best Practices "Restrict access to the
instance profile assigned to the worker node"
(https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html);
EC2 User Guide "Configure the instance metadata options".
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from policyeval.model.topology import (
    UNKNOWN,
    HostMount,
    HostSettings,
    LaunchType,
    MetadataOptions,
    NodeGroupKind,
    Pod,
    Ref,
)
from policyeval.resolver.credentials import (
    CredentialSource,
    Platform,
    SourceKind,
    Workload,
    WorkloadKind,
    resolve_credentials,
)
from tests.resolver_fixtures import ecs_workspace, eks_workspace, lambda_workspace

V1 = MetadataOptions(http_endpoint="enabled", http_tokens="optional", hop_limit=1)
V2_HOP1 = MetadataOptions(http_endpoint="enabled", http_tokens="required", hop_limit=1)
V2_HOP2 = MetadataOptions(http_endpoint="enabled", http_tokens="required", hop_limit=2)
DISABLED = MetadataOptions(http_endpoint="disabled", http_tokens="optional", hop_limit=2)
IPTABLES = HostSettings(iptables_blocks_imds=True)
AWSVPC_BLOCK = HostSettings(agent=(("ECS_AWSVPC_BLOCK_IMDS", "true"),))


def workload(workloads: tuple[Workload, ...], workload_id: str) -> Workload:
    found = [w for w in workloads if w.id == workload_id]
    assert len(found) == 1, [w.id for w in workloads]
    return found[0]


def source(w: Workload, kind: SourceKind) -> CredentialSource:
    found = [c for c in w.credentials if c.source is kind]
    assert len(found) == 1, w.credentials
    return found[0]


def kinds(w: Workload) -> set[SourceKind]:
    return {c.source for c in w.credentials}


def task(ws_kwargs: dict[str, object] | None = None, workload_id: str = "web") -> Workload:
    return workload(resolve_credentials(ecs_workspace(**(ws_kwargs or {}))), workload_id)  # type: ignore[arg-type]


def pod(**kwargs: object) -> Workload:
    return workload(resolve_credentials(eks_workspace(**kwargs)), "shop/web")  # type: ignore[arg-type]


# -- ECS on EC2: the task role, the execution role, the instance profile ---------------------


def test_ecs_ec2_task_reaches_its_task_role_through_the_container_endpoint() -> None:
    cred = source(task(), SourceKind.TASK_ROLE)
    assert cred.reachable is True
    assert cred.role == "arn:aws:iam::111122223333:role/task"
    assert "169.254.170.2" in cred.reason


def test_execution_role_is_never_reachable_by_the_app_but_is_by_the_agent() -> None:
    workloads = resolve_credentials(ecs_workspace())
    for app in ("web", "web/app"):
        cred = source(workload(workloads, app), SourceKind.EXECUTION_ROLE)
        assert cred.reachable is False
        assert "agent" in cred.reason
    agent = workload(workloads, "agent:shop/pool")
    assert agent.kind is WorkloadKind.AGENT
    assert source(agent, SourceKind.EXECUTION_ROLE).reachable is True
    assert source(agent, SourceKind.INSTANCE_PROFILE).reachable is True


def test_bridge_default_with_unknown_metadata_assumes_runinstances_defaults_and_is_exposed() -> (
    None
):
    cred = source(task(), SourceKind.INSTANCE_PROFILE)
    assert cred.reachable is True
    assert "bridge network (the default on EC2 Linux)" in cred.reason
    assert "IMDSv1" in cred.reason
    assert "RunInstances defaults" in cred.reason
    assert "MetadataOptions" in cred.reason  # the input that would settle it
    assert cred.role == "arn:aws:iam::111122223333:role/host"


@pytest.mark.parametrize(
    ("metadata", "reachable", "phrase"),
    [
        (V1, True, "IMDSv1 enabled"),
        (V2_HOP1, False, "hop limit 1"),
        (V2_HOP2, True, "hop limit 2"),
        (DISABLED, False, "HttpEndpoint=disabled"),
        (MetadataOptions(http_tokens="required"), False, "RunInstances default 1 assumed"),
        (MetadataOptions(hop_limit=1), True, "HttpTokens not given"),
        (MetadataOptions(http_tokens=UNKNOWN, hop_limit=1), "unknown", "HttpTokens unknown"),
    ],
)
def test_bridge_task_reaches_the_instance_profile_per_metadata_options(
    metadata: MetadataOptions, reachable: object, phrase: str
) -> None:
    cred = source(task({"network": "bridge", "metadata": metadata}), SourceKind.INSTANCE_PROFILE)
    assert cred.reachable == reachable
    assert phrase in cred.reason


def test_iptables_block_hides_imds_from_bridge_tasks_even_with_imdsv1() -> None:
    cred = source(task({"metadata": V1, "host": IPTABLES}), SourceKind.INSTANCE_PROFILE)
    assert cred.reachable is False
    assert "iptables" in cred.reason


def test_host_network_reaches_imds_whatever_the_hop_limit() -> None:
    cred = source(
        task({"network": "host", "metadata": V2_HOP1, "host": IPTABLES}),
        SourceKind.INSTANCE_PROFILE,
    )
    assert cred.reachable is True
    assert "host network" in cred.reason


def test_awsvpc_is_not_protected_by_hop_limit_one() -> None:
    cred = source(task({"network": "awsvpc", "metadata": V2_HOP1}), SourceKind.INSTANCE_PROFILE)
    assert cred.reachable is True
    assert "ECS_AWSVPC_BLOCK_IMDS not set" in cred.reason


def test_ecs_awsvpc_block_imds_hides_the_instance_profile() -> None:
    cred = source(
        task({"network": "awsvpc", "metadata": V1, "host": AWSVPC_BLOCK}),
        SourceKind.INSTANCE_PROFILE,
    )
    assert cred.reachable is False
    assert "ECS_AWSVPC_BLOCK_IMDS=true" in cred.reason


def test_network_mode_none_reaches_neither_imds_nor_the_task_role() -> None:
    w = task({"network": "none", "metadata": V1})
    assert source(w, SourceKind.INSTANCE_PROFILE).reachable is False
    assert source(w, SourceKind.TASK_ROLE).reachable is False
    assert "network mode none" in source(w, SourceKind.INSTANCE_PROFILE).reason


@pytest.mark.parametrize(
    ("kwargs", "phrase"),
    [
        ({"privileged": True}, "privileged"),
        ({"pid_mode": "host"}, "host PID"),
        (
            {"mounts": (HostMount("/var/run/docker.sock", "/var/run/docker.sock"),)},
            "runtime socket",
        ),
        ({"mounts": (HostMount("/var/run/", "/host-run"),)}, "runtime socket"),
        ({"mounts": (HostMount("/", "/host"),)}, "the host's `/`"),
    ],
)
def test_host_control_exposes_host_credentials_despite_imds_blocks(
    kwargs: dict[str, object], phrase: str
) -> None:
    w = task({"metadata": V2_HOP1, "host": IPTABLES, **kwargs})
    cred = source(w, SourceKind.INSTANCE_PROFILE)
    assert cred.reachable is True
    assert phrase in cred.reason


def test_harmless_host_mount_does_not_expose_host_credentials() -> None:
    w = task({"metadata": V2_HOP1, "mounts": (HostMount("/var/log/app", "/logs"),)})
    assert source(w, SourceKind.INSTANCE_PROFILE).reachable is False


def test_task_without_task_role_falls_back_to_the_instance_profile_in_the_sdk() -> None:
    cred = source(task({"task_role": None, "metadata": V1}), SourceKind.INSTANCE_PROFILE)
    assert cred.reachable is True
    assert cred.sdk_default is True
    assert "SDK itself uses the instance profile" in cred.reason


def test_task_with_task_role_marks_the_task_role_as_the_sdk_default() -> None:
    w = task({"metadata": V1})
    assert source(w, SourceKind.TASK_ROLE).sdk_default is True
    assert source(w, SourceKind.INSTANCE_PROFILE).sdk_default is False


def test_missing_instance_profile_is_unknown_and_treated_as_exposed() -> None:
    cred = source(task({"instance_profile": "nope", "metadata": V1}), SourceKind.INSTANCE_PROFILE)
    assert cred.reachable == "unknown"
    assert cred.exposed
    assert "instance profile `nope` is not in the inputs" in cred.reason


def test_unresolvable_task_role_is_unknown() -> None:
    cred = source(task({"task_role": UNKNOWN}), SourceKind.TASK_ROLE)
    assert cred.reachable == "unknown"
    assert "could not be resolved" in cred.reason


def test_task_role_missing_from_inputs_is_unknown_with_its_name() -> None:
    cred = source(task({"task_role": "ghost"}), SourceKind.TASK_ROLE)
    assert cred.reachable == "unknown"
    assert cred.role == "ghost"


def test_task_without_capacity_is_assumed_on_ec2_with_unknown_host_role() -> None:
    ws = ecs_workspace()
    ws = replace(ws, tasks=(replace(ws.tasks[0], capacity=None, cluster=None),), ecs_clusters=())
    w = workload(resolve_credentials(ws), "web")
    assert w.platform is Platform.ECS_EC2
    cred = source(w, SourceKind.INSTANCE_PROFILE)
    assert cred.reachable == "unknown"
    assert any("EC2 assumed" in note for note in w.notes)


def test_containers_are_workloads_named_task_slash_container() -> None:
    workloads = resolve_credentials(ecs_workspace(privileged=True, metadata=V2_HOP1))
    container = workload(workloads, "web/app")
    assert container.kind is WorkloadKind.CONTAINER
    assert source(container, SourceKind.INSTANCE_PROFILE).reachable is True
    assert workload(workloads, "web").kind is WorkloadKind.TASK


def test_task_iam_role_disabled_on_the_agent_withholds_the_task_role() -> None:
    host = HostSettings(agent=(("ECS_ENABLE_TASK_IAM_ROLE", "false"),))
    assert source(task({"host": host}), SourceKind.TASK_ROLE).reachable is False


# -- ECS on Fargate and External ---------------------------------------------------------------


def test_fargate_task_has_only_its_task_role() -> None:
    w = task({"launch": LaunchType.FARGATE, "privileged": True})
    assert w.platform is Platform.ECS_FARGATE
    assert kinds(w) == {SourceKind.TASK_ROLE, SourceKind.EXECUTION_ROLE}
    assert source(w, SourceKind.TASK_ROLE).reachable is True
    assert "Fargate agent" in source(w, SourceKind.EXECUTION_ROLE).reason
    assert not any(
        x.kind is WorkloadKind.AGENT
        for x in resolve_credentials(ecs_workspace(launch=LaunchType.FARGATE))
    )


def test_external_task_does_not_reach_the_anywhere_role_by_default() -> None:
    w = task({"launch": LaunchType.EXTERNAL})
    assert w.platform is Platform.ECS_EXTERNAL
    cred = source(w, SourceKind.HOST_ROLE)
    assert cred.reachable is False
    assert "/root/.aws" in cred.reason
    assert SourceKind.INSTANCE_PROFILE not in kinds(w)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mounts": (HostMount("/root/.aws", "/creds"),)},
        {"mounts": (HostMount("/root", "/r"),)},
        {"mounts": (HostMount("/root/.aws/credentials", "/c"),)},
        {"privileged": True},
    ],
)
def test_external_task_mounting_root_aws_or_privileged_reaches_the_anywhere_role(
    kwargs: dict[str, object],
) -> None:
    cred = source(task({"launch": LaunchType.EXTERNAL, **kwargs}), SourceKind.HOST_ROLE)
    assert cred.reachable is True
    assert cred.role == "arn:aws:iam::111122223333:role/anywhere"


def test_external_agent_holds_the_anywhere_role() -> None:
    agent = workload(
        resolve_credentials(ecs_workspace(launch=LaunchType.EXTERNAL)), "agent:shop/pool"
    )
    assert agent.platform is Platform.ECS_EXTERNAL
    assert source(agent, SourceKind.HOST_ROLE).reachable is True


# -- EKS ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [NodeGroupKind.MANAGED, NodeGroupKind.SELF_MANAGED])
@pytest.mark.parametrize(
    ("metadata", "host", "reachable"),
    [
        (None, None, True),
        (V1, None, True),
        (V2_HOP1, None, False),
        (V2_HOP2, None, True),
        (V2_HOP2, IPTABLES, False),
        (DISABLED, None, False),
    ],
)
def test_eks_pod_reaches_the_node_role_per_metadata_and_iptables(
    kind: NodeGroupKind,
    metadata: MetadataOptions | None,
    host: HostSettings | None,
    reachable: bool,
) -> None:
    w = pod(kind=kind, metadata=metadata, host=host)
    assert w.platform is Platform.EKS_EC2
    cred = source(w, SourceKind.NODE_ROLE)
    assert cred.reachable is reachable
    assert cred.role == "arn:aws:iam::111122223333:role/node"


def test_host_network_pod_reaches_the_node_role_with_hop_limit_one() -> None:
    cred = source(pod(metadata=V2_HOP1, host_network=True), SourceKind.NODE_ROLE)
    assert cred.reachable is True
    assert "hostNetwork" in cred.reason


@pytest.mark.parametrize(
    "kwargs",
    [
        {"privileged": True},
        {"host_pid": True},
        {"host_paths": (HostMount("/run/containerd/containerd.sock"),)},
    ],
)
def test_pod_controlling_the_host_reaches_the_node_role(kwargs: dict[str, object]) -> None:
    assert source(pod(metadata=V2_HOP1, **kwargs), SourceKind.NODE_ROLE).reachable is True


def test_irsa_pod_has_its_role_and_still_the_node_role_when_imds_is_open() -> None:
    w = pod(irsa="irsa", metadata=V1)
    irsa = source(w, SourceKind.IRSA)
    assert irsa.reachable is True
    assert irsa.sdk_default is True
    assert "eks.amazonaws.com/role-arn" in irsa.reason
    node = source(w, SourceKind.NODE_ROLE)
    assert node.reachable is True
    assert node.sdk_default is False


def test_pod_identity_pod_reaches_its_role_through_the_agent() -> None:
    cred = source(pod(pod_identity="podid"), SourceKind.POD_IDENTITY)
    assert cred.reachable is True
    assert "169.254.170.23" in cred.reason


def test_irsa_wins_over_pod_identity_in_the_sdk_chain() -> None:
    w = pod(irsa="irsa", pod_identity="podid")
    assert source(w, SourceKind.IRSA).sdk_default is True
    assert source(w, SourceKind.POD_IDENTITY).sdk_default is False


def test_fargate_pod_has_irsa_but_no_node_role_and_no_pod_identity() -> None:
    w = pod(kind=NodeGroupKind.FARGATE, irsa="irsa", pod_identity="podid", privileged=True)
    assert w.platform is Platform.EKS_FARGATE
    assert source(w, SourceKind.IRSA).reachable is True
    assert source(w, SourceKind.POD_IDENTITY).reachable is False
    assert SourceKind.NODE_ROLE not in kinds(w)
    execution = source(w, SourceKind.EXECUTION_ROLE)
    assert execution.reachable is False
    assert "Fargate" in execution.reason


def test_eks_node_holds_its_node_role() -> None:
    node = workload(resolve_credentials(eks_workspace()), "node:prod/ng")
    assert node.kind is WorkloadKind.NODE
    assert source(node, SourceKind.NODE_ROLE).reachable is True


def test_pod_on_unknown_node_group_has_an_unknown_node_role() -> None:
    ws = eks_workspace()
    ws = replace(ws, pods=(Pod(id="p", namespace="shop", name="p", node_group="missing"),))
    cred = source(workload(resolve_credentials(ws), "p"), SourceKind.NODE_ROLE)
    assert cred.reachable == "unknown"
    assert "node group `missing`" in cred.reason


def test_pod_without_a_service_account_role_uses_the_node_role_in_the_sdk() -> None:
    cred = source(pod(metadata=V1), SourceKind.NODE_ROLE)
    assert cred.sdk_default is True
    assert "SDK itself uses the node role" in cred.reason


def test_unresolvable_irsa_role_is_unknown() -> None:
    ws = eks_workspace()
    sa = replace(ws.service_accounts[0], irsa_role=Ref(UNKNOWN))
    cred = source(
        workload(resolve_credentials(replace(ws, service_accounts=(sa,))), "shop/web"),
        SourceKind.IRSA,
    )
    assert cred.reachable == "unknown"


# -- Lambda ------------------------------------------------------------------------------------


def test_lambda_function_has_only_its_execution_role() -> None:
    w = workload(resolve_credentials(lambda_workspace()), "nightly")
    assert w.kind is WorkloadKind.FUNCTION
    assert w.platform is Platform.LAMBDA
    assert kinds(w) == {SourceKind.LAMBDA_EXECUTION_ROLE}
    assert source(w, SourceKind.LAMBDA_EXECUTION_ROLE).reachable is True

"""terraform show -json: planned values, unknowns resolved through references, modules."""

from __future__ import annotations

import json
from pathlib import Path

from policyeval.model.topology import UNKNOWN, LaunchType
from policyeval.readers.terraform import read_terraform

FORMATS = Path(__file__).parent.parent / "fixtures" / "formats"
PLAN = FORMATS / "terraform-show-plan.json"


def _example():  # type: ignore[no-untyped-def]
    return read_terraform(PLAN.read_text(), str(PLAN))


def test_roles_get_trust_inline_and_attachments_from_separate_resources() -> None:
    ws = _example()
    roles = {r.name: r for r in ws.roles}
    task = roles["report-worker-task"]
    assert [p.name for p in task.inline] == ["jobs-queue"]
    assert task.trust is not None
    assert task.trust.statements[0].condition[0].key == "aws:SourceAccount"
    # policy_arn is unknown in the plan; the configuration references aws_iam_policy.broad_s3
    assert [a.ref for a in task.managed] == ["report-broad-s3"]
    assert [m.name for m in ws.managed_policies] == ["report-broad-s3"]
    instance = roles["report-ecs-instance"]
    assert [(a.ref, a.aws_managed) for a in instance.managed] == [
        ("arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role", True)
    ]


def test_json_string_attributes_get_the_attribute_position() -> None:
    ws = _example()
    task_role = next(r for r in ws.roles if r.name == "report-worker-task")
    assert task_role.trust is not None and task_role.trust.statements[0].span is not None
    assert task_role.trust.statements[0].span.line == 25  # the assume_role_policy line


def test_unknown_task_role_is_linked_through_configuration_references() -> None:
    (task,) = _example().tasks
    assert task.id == "aws_ecs_task_definition.worker"
    assert task.task_role is not None and task.task_role.value == "report-worker-task"
    assert task.execution_role is not None
    assert task.execution_role.value == "arn:aws:iam::111122223333:role/ecsTaskExecutionRole"
    (container,) = task.containers
    assert container.name == "worker"
    assert [s.value for s in container.secrets] == [
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/report/api-token-Qw12Er"
    ]


def test_launch_template_blocks_and_user_data_become_a_capacity() -> None:
    ws = _example()
    (cluster,) = ws.ecs_clusters
    assert cluster.name == "reports"  # ECS_CLUSTER in the base64 user data
    (capacity,) = cluster.capacities
    assert capacity.metadata is not None
    assert (capacity.metadata.http_tokens, capacity.metadata.hop_limit) == ("optional", 2)
    assert capacity.instance_profile is not None
    assert capacity.instance_profile.value == "report-ecs-instance"
    (profile,) = ws.instance_profiles
    assert profile.role is not None and profile.role.value == "report-ecs-instance"


def _plan(
    resources: list[dict[str, object]],
    config: list[dict[str, object]] | None = None,
    children: list[dict[str, object]] | None = None,
) -> str:
    root: dict[str, object] = {"resources": resources}
    if children:
        root["child_modules"] = children
    return json.dumps(
        {
            "format_version": "1.2",
            "planned_values": {"root_module": root},
            "configuration": {"root_module": {"resources": config or []}},
        }
    )


def test_child_modules_services_and_unknown_references_outside_the_plan() -> None:
    child = {
        "address": "module.app",
        "resources": [
            {
                "address": "module.app.aws_ecs_task_definition.t",
                "mode": "managed",
                "type": "aws_ecs_task_definition",
                "name": "t",
                "values": {"family": "app", "container_definitions": "[]"},
            },
            {
                "address": "module.app.aws_ecs_service.s",
                "mode": "managed",
                "type": "aws_ecs_service",
                "name": "s",
                "values": {
                    "name": "app",
                    "task_definition": "app:3",
                    "launch_type": "FARGATE",
                    "cluster": "arn:aws:ecs:eu-west-1:1:cluster/main",
                },
            },
        ],
    }
    text = _plan([], children=[child])
    ws = read_terraform(text, "plan.json")
    (task,) = ws.tasks
    assert task.id == "module.app.aws_ecs_task_definition.t"
    (service,) = ws.services
    assert service.launch_type is LaunchType.FARGATE
    # "app:3" is a family:revision, not an address in the plan
    assert service.task.value == "app:3"


def test_references_to_unknown_outside_values_are_unknown_with_a_note() -> None:
    resources = [
        {
            "address": "aws_ecs_task_definition.t",
            "mode": "managed",
            "type": "aws_ecs_task_definition",
            "name": "t",
            "values": {"family": "t", "container_definitions": "[]"},
        }
    ]
    config = [
        {
            "address": "aws_ecs_task_definition.t",
            "expressions": {"task_role_arn": {"references": ["module.iam.role_arn"]}},
        }
    ]
    ws = read_terraform(_plan(resources, config), "plan.json")
    (task,) = ws.tasks
    assert task.task_role is not None and task.task_role.value == UNKNOWN
    assert [d.code for d in ws.diagnostics] == ["PE063"]


def test_broken_embedded_policy_is_reported_and_other_resources_survive() -> None:
    resources = [
        {
            "address": "aws_iam_role.r",
            "mode": "managed",
            "type": "aws_iam_role",
            "name": "r",
            "values": {"name": "r", "assume_role_policy": "{not json"},
        },
        {
            "address": "aws_iam_role.ok",
            "mode": "managed",
            "type": "aws_iam_role",
            "name": "ok",
            "values": {"name": "ok"},
        },
    ]
    ws = read_terraform(_plan(resources), "plan.json")
    assert sorted(r.name for r in ws.roles) == ["ok", "r"]
    (diagnostic,) = ws.diagnostics
    assert diagnostic.code == "PE060" and diagnostic.span is not None
    assert diagnostic.span.line == 1  # the whole plan is on one line here


def test_state_output_uses_values_root_module() -> None:
    state = {
        "format_version": "1.0",
        "values": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_eks_pod_identity_association.a",
                        "mode": "managed",
                        "type": "aws_eks_pod_identity_association",
                        "name": "a",
                        "values": {
                            "cluster_name": "pay",
                            "namespace": "ledger",
                            "service_account": "writer",
                            "role_arn": "arn:aws:iam::1:role/w",
                        },
                    }
                ]
            }
        },
    }
    ws = read_terraform(json.dumps(state), "state.json")
    (account,) = ws.service_accounts
    assert account.pod_identity_role is not None
    assert account.pod_identity_role.value == "arn:aws:iam::1:role/w"

"""ECS task definitions: both CLI shapes, host mounts, secrets, broken input."""

from __future__ import annotations

from pathlib import Path

from policyeval.model.topology import LaunchType
from policyeval.readers.taskdef import read_needs, read_task_definition

FORMATS = Path(__file__).parent.parent / "fixtures" / "formats"


def _read(name: str):  # type: ignore[no-untyped-def]
    path = FORMATS / name
    return read_task_definition(path.read_text(), str(path))


def test_describe_output_is_unwrapped_and_keeps_roles_with_positions() -> None:
    ws = _read("ecs-describe-task-definition.json")
    assert ws.diagnostics == ()
    (task,) = ws.tasks
    assert (task.id, task.family, task.network_mode, task.pid_mode) == (
        "orders-api",
        "orders-api",
        "bridge",
        "host",
    )
    assert task.task_role is not None
    assert task.task_role.value == "arn:aws:iam::111122223333:role/orders-api-task"
    assert task.task_role.span is not None and task.task_role.span.line == 7
    assert task.compatibilities == (LaunchType.EC2,)
    assert str(FORMATS / "ecs-describe-task-definition.json") in ws.sources.texts


def test_mount_points_resolve_to_host_paths_and_privileged_is_kept() -> None:
    (task,) = _read("ecs-describe-task-definition.json").tasks
    api, agent = task.containers
    assert not api.privileged and api.mounts == ()
    assert agent.privileged
    assert [(m.source_path, m.container_path) for m in agent.mounts] == [
        ("/var/run/docker.sock", "/var/run/docker.sock")
    ]


def test_secrets_include_value_from_and_registry_credentials() -> None:
    """ECS Developer Guide, "Task execution IAM role": the execution role reads `secrets`
    and `repositoryCredentials`."""
    api, agent = _read("ecs-describe-task-definition.json").tasks[0].containers
    assert [s.value for s in api.secrets] == [
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/orders/db-Ab12Cd",
        "arn:aws:ssm:eu-west-1:111122223333:parameter/prod/orders/flags",
    ]
    assert [s.value for s in agent.secrets] == [
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:registry/example-creds-Xy98Zq"
    ]
    assert api.environment == (("ORDERS_TABLE", "orders-prod"),)


def test_register_input_is_read_bare_with_fargate_and_environment_files() -> None:
    ws = _read("ecs-register-task-definition-input.json")
    (task,) = ws.tasks
    assert task.compatibilities == (LaunchType.FARGATE,)
    assert task.network_mode == "awsvpc"
    (worker,) = task.containers
    assert [f.value for f in worker.environment_files] == [
        "arn:aws:s3:::acme-config-eu/report-worker/prod.env"
    ]


def test_malformed_json_is_one_pe060_with_position_and_no_task() -> None:
    ws = read_task_definition('{"family": "x",\n  "containerDefinitions": [}', "bad.json")
    assert ws.tasks == ()
    (diagnostic,) = ws.diagnostics
    assert diagnostic.code == "PE060"
    assert diagnostic.span is not None
    assert (diagnostic.span.line, diagnostic.span.column) == (2, 28)


def test_missing_family_and_bad_container_are_reported_where_they_are() -> None:
    ws = read_task_definition('{"containerDefinitions": []}', "nofamily.json")
    assert ws.tasks == ()
    assert [d.code for d in ws.diagnostics] == ["PE062"]
    text = '{"family": "f", "containerDefinitions": [\n  42, {"name": "ok"}]}'
    ws = read_task_definition(text, "c.json")
    assert [c.name for c in ws.tasks[0].containers] == ["ok"]
    (diagnostic,) = ws.diagnostics
    assert diagnostic.code == "PE062" and diagnostic.span is not None
    assert (diagnostic.span.line, diagnostic.span.column) == (2, 3)


def test_needs_file_lists_actions_with_optional_resources() -> None:
    needs, out = read_needs(
        '- s3:GetObject\n- action: sqs:SendMessage\n  resources: ["arn:aws:sqs:eu-west-1:1:q"]\n',
        "web.needs.yaml",
    )
    assert out.diagnostics == []
    assert [(n.action, n.resources) for n in needs] == [
        ("s3:GetObject", ("*",)),
        ("sqs:SendMessage", ("arn:aws:sqs:eu-west-1:1:q",)),
    ]
    assert needs[1].span is not None and needs[1].span.line == 2


def test_needs_file_entries_of_the_wrong_shape_are_pe066() -> None:
    needs, out = read_needs('["s3:GetObject", 7]', "web.needs.json")
    assert [n.action for n in needs] == ["s3:GetObject"]
    assert [d.code for d in out.diagnostics] == ["PE066"]

"""A `.pel` estate and the JSON files it imports, loaded together from a folder."""

from __future__ import annotations

import json
from pathlib import Path

from policyeval.sources import load_paths

TASKDEF = {
    "taskDefinition": {
        "family": "web",
        "taskRoleArn": "arn:aws:iam::111122223333:role/web-task",
        "executionRoleArn": "arn:aws:iam::111122223333:role/web-exec",
        "networkMode": "bridge",
        "containerDefinitions": [{"name": "app", "image": "nginx", "privileged": True}],
    }
}

PEL = """account 111122223333
policy read = import "read.json"
role web-task { trust service ecs-tasks.amazonaws.com; attach read }
cluster shop {
  task web { definition "web.json"; task-role web-task }
}
"""


def make(tmp_path: Path) -> Path:
    (tmp_path / "web.json").write_text(json.dumps(TASKDEF))
    (tmp_path / "read.json").write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
            }
        )
    )
    (tmp_path / "estate.pel").write_text(PEL)
    return tmp_path


def test_imported_task_definition_fills_what_the_pel_task_leaves_unsaid(tmp_path: Path) -> None:
    workspace = load_paths([str(make(tmp_path))])
    assert [d.message for d in workspace.diagnostics] == []
    (task,) = workspace.tasks
    assert task.task_role is not None and task.task_role.value == "web-task"  # .pel wins
    assert task.execution_role is not None and task.execution_role.value.endswith("role/web-exec")
    assert task.network_mode == "bridge"
    assert [c.name for c in task.containers] == ["app"] and task.containers[0].privileged


def test_files_imported_by_a_pel_file_are_not_loaded_twice(tmp_path: Path) -> None:
    workspace = load_paths([str(make(tmp_path))])
    assert [t.id for t in workspace.tasks] == ["web"]
    assert [p.name for p in workspace.policies] == ["read"]

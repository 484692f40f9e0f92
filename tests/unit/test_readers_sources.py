"""Finding inputs, recognising formats by content, and carrying on past bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from policyeval.sources import load_paths

FORMATS = Path(__file__).parent.parent / "fixtures" / "formats"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for example in FORMATS.iterdir():
        # Names hide the format: recognition must come from the content.
        shutil.copy(example, tmp_path / f"input-{example.stem[:6]}{example.suffix}")
    return tmp_path


def test_every_example_format_is_recognised_by_content(tree: Path) -> None:
    ws = load_paths([str(tree)])
    assert not [d for d in ws.diagnostics if d.code in ("PE069", "PE060", "PE061")]
    assert {t.family for t in ws.tasks} == {"orders-api", "report-worker"}
    assert len(ws.roles) == 4 + 3 + 2  # dump + template + plan
    assert {a.name for a in ws.service_accounts} == {"invoice-exporter", "ledger-writer"}
    assert ws.account == "111122223333"


def test_bad_and_unknown_files_do_not_stop_the_rest(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"family": ')
    (tmp_path / "package.json").write_text('{"name": "web"}')
    (tmp_path / "policy.json").write_text(
        '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}'
    )
    (tmp_path / "latin1.yaml").write_bytes(b"name: caf\xe9\n")
    ws = load_paths([str(tmp_path)])
    assert [p.name for p in ws.policies] == ["policy"]
    codes = [(Path(d.span.path).name, d.code) for d in ws.diagnostics if d.span]
    assert codes == [
        ("broken.json", "PE060"),
        ("latin1.yaml", "PE070"),
        ("package.json", "PE069"),
    ]


def test_hidden_and_vendor_folders_are_skipped(tmp_path: Path) -> None:
    for folder in (".git", "node_modules", ".venv"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "bad.json").write_text("{")
    assert load_paths([str(tmp_path)]).diagnostics == ()


def test_needs_file_next_to_a_task_definition_becomes_its_needs(tmp_path: Path) -> None:
    shutil.copy(FORMATS / "ecs-register-task-definition-input.json", tmp_path / "worker.json")
    (tmp_path / "worker.needs.yaml").write_text("- sqs:ReceiveMessage\n")
    (tmp_path / "orphan.needs.json").write_text('["s3:GetObject"]')
    ws = load_paths([str(tmp_path)])
    (task,) = ws.tasks
    assert [n.action for n in task.needs] == ["sqs:ReceiveMessage"]
    assert [(Path(d.span.path).name, d.code) for d in ws.diagnostics if d.span] == [
        ("orphan.needs.json", "PE066")
    ]


def test_size_cap_and_missing_paths_are_diagnostics(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_text("[" + "1," * 100 + "1]")
    ws = load_paths([str(big), str(tmp_path / "missing.json")], max_bytes=50)
    assert sorted(d.code for d in ws.diagnostics) == ["PE070", "PE092"]


def test_diagnostics_are_sorted_by_path_and_line(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text("{\n\n  x")
    (tmp_path / "a.json").write_text("[1,\n ]")
    ws = load_paths([str(tmp_path)])
    assert [(Path(d.span.path).name, d.span.line) for d in ws.diagnostics if d.span] == [
        ("a.json", 2),
        ("b.json", 3),
    ]

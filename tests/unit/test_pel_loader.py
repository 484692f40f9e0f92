"""Loading `.pel` into a Workspace: imports, name resolution, the project-folder fence."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from policyeval.pel import load_pel

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

POLICY_JSON = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def codes(path: Path, **kwargs: object) -> list[str]:
    return [d.code for d in load_pel(path, **kwargs).diagnostics]  # type: ignore[arg-type]


def test_sample_estate_loads_without_diagnostics() -> None:
    workspace = load_pel(SAMPLES / "estate.pel")
    assert workspace.diagnostics == ()
    assert workspace.account == "111122223333"
    orders = next(t for t in workspace.tasks if t.id == "orders-api")
    assert orders.definition is not None
    assert orders.definition.value.endswith("taskdefs/orders-api.json")
    exec_role = workspace.find_role("orders-exec")
    assert exec_role is not None and exec_role.trust is not None
    imported = workspace.find_policy("orders-exec")
    assert imported is not None and not isinstance(imported, type(None))
    assert any(p.name == "FullAWSAccess" for p in workspace.policies)
    assert str(SAMPLES / "estate.pel") in workspace.sources.texts


def test_imported_json_policy_becomes_named_policy(tmp_path: Path) -> None:
    write(tmp_path, "p/read.json", json.dumps(POLICY_JSON))
    pel = write(tmp_path, "main.pel", 'policy read = import "p/read.json"\nrole r { inline read }')
    workspace = load_pel(pel)
    assert workspace.diagnostics == ()
    role = workspace.roles[0]
    assert role.inline[0].name == "read"
    assert role.inline[0].statements[0].action == ("s3:GetObject",)


def test_missing_import_is_reported_at_the_import(tmp_path: Path) -> None:
    pel = write(tmp_path, "main.pel", '\npolicy read = import "nope.json"\nrole r { inline read }')
    (diagnostic,) = load_pel(pel).diagnostics
    assert diagnostic.code == "PE027"
    assert diagnostic.span is not None and diagnostic.span.line == 2


@pytest.mark.parametrize("statement", ['policy p = import "a\\u0000.json"', 'import "\x00b.json"'])
def test_an_import_path_with_a_nul_character_is_a_missing_file(
    tmp_path: Path, statement: str
) -> None:
    pel = write(tmp_path, "main.pel", statement)
    assert codes(pel) == ["PE027"]


def test_import_outside_project_is_refused_unless_allowed(tmp_path: Path) -> None:
    write(tmp_path, "outside.json", json.dumps(POLICY_JSON))
    pel = write(tmp_path, "project/main.pel", 'policy p = import "../outside.json"')
    assert codes(pel) == ["PE028"]
    assert codes(pel, allow_outside=True) == []


def test_symlink_out_of_project_is_refused(tmp_path: Path) -> None:
    secret = write(tmp_path, "secret/p.json", json.dumps(POLICY_JSON))
    project = tmp_path / "project"
    project.mkdir()
    os.symlink(secret, project / "link.json")
    pel = write(tmp_path, "project/main.pel", 'policy p = import "link.json"')
    assert codes(pel) == ["PE028"]


def test_root_option_widens_the_project_folder(tmp_path: Path) -> None:
    write(tmp_path, "shared/p.json", json.dumps(POLICY_JSON))
    pel = write(tmp_path, "app/main.pel", 'policy p = import "../shared/p.json"')
    assert codes(pel, root=tmp_path) == []


def test_invalid_imported_json_reports_reader_diagnostics(tmp_path: Path) -> None:
    write(tmp_path, "bad.json", '{"Statement": [{"Effect": "Permit", "Action": "a:b"}]}')
    pel = write(tmp_path, "main.pel", 'policy p = import "bad.json"\nrole r { attach p }')
    found = codes(pel)
    assert found and all(code.startswith("PE04") for code in found)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("role r { attach missing }", "PE020"),
        ("cluster c { task t { task-role nobody } }", "PE021"),
        ("cluster c { capacity p { launch ec2; instance-profile nope } }", "PE022"),
        ("cluster c { task t { runs-on nowhere } }", "PE023"),
        ("cluster c { service s { task none } }", "PE024"),
        ("eks-cluster k { pod ns/p { service-account sa } }", "PE025"),
        ("eks-cluster k { pod ns/p { node-group ng } }", "PE026"),
        ("role r {}\nrole r {}", "PE029"),
        ("expect { task ghost can s3:GetObject }", "PE031"),
    ],
)
def test_undefined_names_are_coded_at_their_position(tmp_path: Path, text: str, code: str) -> None:
    pel = write(tmp_path, "main.pel", text)
    diagnostics = load_pel(pel).diagnostics
    assert [d.code for d in diagnostics] == [code]
    assert diagnostics[0].span is not None and diagnostics[0].span.path == str(pel)


def test_undefined_name_suggests_a_close_one(tmp_path: Path) -> None:
    pel = write(tmp_path, "main.pel", "policy reader {}\nrole r { attach raeder }")
    (diagnostic,) = load_pel(pel).diagnostics
    assert diagnostic.help == "did you mean `reader`?"


def test_arn_references_need_no_definition(tmp_path: Path) -> None:
    pel = write(tmp_path, "main.pel", 'cluster c { task t { task-role "arn:aws:iam::1:role/x" } }')
    assert codes(pel) == []


def test_unreadable_file_is_a_diagnostic(tmp_path: Path) -> None:
    assert codes(tmp_path / "missing.pel") == ["PE030"]
    binary = tmp_path / "b.pel"
    binary.write_bytes(b"\xff\xfe\x00")
    assert codes(binary) == ["PE030"]

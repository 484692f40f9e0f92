"""Input is data: no code execution, no escape from the project folder, no network, no
terminal control from input values, and no half-written files."""

from __future__ import annotations

import io
import json
import os
import re
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from policyeval.cli import app
from policyeval.errors import Diagnostic, Severity, SourceText, Span, render_plain
from policyeval.pel import load_pel
from policyeval.sources import load_paths

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGE = ROOT / "policyeval"
SAMPLES = ROOT / "samples"

# -- no unsafe loaders, no eval ---------------------------------------------------------------

UNSAFE = [
    (re.compile(r"\byaml\.load\("), "yaml.load( (use the safe loaders)"),
    (re.compile(r"\byaml\.(?:unsafe_load|full_load|load_all)\("), "an unsafe yaml loader"),
    (re.compile(r"\byaml\.(?:Unsafe|Full)?Loader\b"), "yaml.Loader (use SafeLoader)"),
    (re.compile(r"(?<![\w.])eval\("), "eval("),
    (re.compile(r"(?<![\w.])exec\("), "exec("),
    (re.compile(r"\bimport pickle\b|\bpickle\.loads?\("), "pickle"),
    (re.compile(r"\bmarshal\.loads?\("), "marshal"),
    (re.compile(r"\bshell=True\b"), "a shell"),
    (re.compile(r"\b__import__\("), "__import__("),
]


def test_source_uses_no_unsafe_loader_eval_exec_or_pickle() -> None:
    found = []
    for file in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for pattern, what in UNSAFE:
                if pattern.search(code):
                    found.append(f"{file.relative_to(ROOT)}:{number}: {what}")
    assert found == []


def test_the_scan_catches_what_it_looks_for() -> None:
    """The scan is not vacuous: each pattern fires on the code it forbids."""
    samples = [
        "yaml.load(text)",
        "yaml.full_load(x)",
        "Loader=yaml.Loader",
        "eval(s)",
        "exec(s)",
        "import pickle",
        "marshal.loads(b)",
        "run(x, shell=True)",
        "__import__(n)",
    ]
    for (pattern, _what), sample in zip(UNSAFE, samples, strict=True):
        assert pattern.search(sample)
    assert not UNSAFE[0][0].search("yaml.safe_load(text)")
    assert not UNSAFE[3][0].search("literal_eval(s)  # and model.evaluate(x)")


def test_yaml_python_tags_are_refused_not_constructed(tmp_path: Path) -> None:
    file = tmp_path / "evil.yaml"
    file.write_text("a: !!python/object/apply:os.system ['touch pwned']\n", encoding="utf-8")
    (diagnostic,) = load_paths([str(file)]).diagnostics
    assert diagnostic.code == "PE061"
    assert "unsupported tag" in diagnostic.message
    assert not (tmp_path / "pwned").exists()


# -- imports stay in the project folder ------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}
    (outside / "secret.json").write_text(json.dumps(policy), encoding="utf-8")
    inside = tmp_path / "project"
    inside.mkdir()
    (inside / "link.json").symlink_to(outside / "secret.json")
    (inside / "linked-dir").symlink_to(outside, target_is_directory=True)
    return inside


@pytest.mark.parametrize(
    "path", ["../outside/secret.json", "link.json", "linked-dir/secret.json"], ids=str
)
def test_pel_import_cannot_leave_the_project_folder(project: Path, path: str) -> None:
    (project / "main.pel").write_text(f'policy p = import "{path}"\n', encoding="utf-8")
    (diagnostic,) = load_pel(project / "main.pel").diagnostics
    assert diagnostic.code == "PE028"
    assert diagnostic.message == f"import `{path}` leaves the project folder"
    assert diagnostic.span is not None and (diagnostic.span.line, diagnostic.span.column) == (1, 1)


def test_pel_import_through_a_symlink_is_read_when_allowed(project: Path) -> None:
    (project / "main.pel").write_text('policy p = import "link.json"\n', encoding="utf-8")
    workspace = load_pel(project / "main.pel", allow_outside=True)
    assert workspace.diagnostics == ()
    assert [p.name for p in workspace.policies] == ["p"]


def test_folder_walk_applies_the_import_rule_and_the_cli_option_lifts_it(project: Path) -> None:
    (project / "main.pel").write_text('policy p = import "link.json"\n', encoding="utf-8")
    assert [d.code for d in load_paths([str(project / "main.pel")]).diagnostics] == ["PE028"]
    allowed = load_paths([str(project / "main.pel")], allow_outside=True)
    assert [d.code for d in allowed.diagnostics] == []
    runner = CliRunner()
    refused = runner.invoke(app, ["graph", str(project / "main.pel")])
    assert refused.exit_code == 2 and "PE028" in refused.output
    lifted = runner.invoke(app, ["graph", str(project / "main.pel"), "--allow-outside-imports"])
    assert lifted.exit_code == 0, lifted.output


# -- no network -------------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    attempts: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args[:2]))
        raise OSError("network use is forbidden in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def test_the_network_guard_itself_refuses_connections(no_network: list[str]) -> None:
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", 9)):
        pass
    assert no_network


def test_effective_eval_and_formats_on_the_samples_use_no_network(no_network: list[str]) -> None:
    from policyeval.api import effective_permissions
    from policyeval.batch import decide_case
    from policyeval.report.effective_out import render_effective_json, render_effective_table
    from policyeval.report.to_graph import render_graph_mermaid
    from policyeval.resolver.credentials import resolve_credentials
    from policyeval.syntax.formatter import format_pel

    workspace = load_paths([str(SAMPLES), str(ROOT / "tests" / "fixtures" / "formats")])
    report = effective_permissions(workspace)
    assert report.workloads
    render_effective_table(report)
    render_effective_json(report)
    render_graph_mermaid(resolve_credentials(workspace))
    format_pel((SAMPLES / "estate.pel").read_text(encoding="utf-8"))
    document = json.loads((SAMPLES / "policies" / "reports-bucket.json").read_text())
    answer = decide_case(
        {
            "principal": "arn:aws:iam::111122223333:role/r",
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::b/k",
            "identityPolicies": [document],
        }
    )
    assert answer["decision"] is not None
    from policyeval.api import audit, render

    result = audit(workspace)
    for output_format in ("table", "json", "sarif", "markdown"):
        render(result, output_format)
    assert no_network == []


# -- terminal output escapes input ---------------------------------------------------------------

HOSTILE_VALUES = [
    "[bold]loud[/bold]",
    "b/\x1b[31mred\x1b[0m",
    "x\x07bell",
    "[link=http://e]x[/link]",
]


def _workspace_granting(resource: str, tmp_path: Path) -> Path:
    text = (
        "account 111122223333\n"
        f"policy p {{\n  allow s3:GetObject on {json.dumps(resource)}\n}}\n"
        "role t { trust service ecs-tasks.amazonaws.com; attach p }\n"
        "cluster c {\n  task w { task-role t; launch fargate }\n}\n"
    )
    file = tmp_path / "estate.pel"
    file.write_text(text, encoding="utf-8")
    return file


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=repr)
def test_effective_table_prints_hostile_arns_literally_and_escaped(
    value: str, tmp_path: Path
) -> None:
    from policyeval.api import effective_permissions
    from policyeval.report.effective_out import render_effective_table

    file = _workspace_granting("arn:aws:s3:::" + value, tmp_path)
    workspace = load_paths([str(file)])
    assert workspace.diagnostics == ()
    out = render_effective_table(effective_permissions(workspace), color=True, width=400)
    assert "\x07" not in out
    assert "\x1b[31mred" not in out  # the input's own escape never reaches the terminal
    visible = value.replace("\x1b", "\ufffd").replace("\x07", "\ufffd")
    assert visible in out  # markup shown as written, controls as U+FFFD


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=repr)
def test_audit_table_prints_hostile_names_literally_and_escaped(value: str, tmp_path: Path) -> None:
    from policyeval.api import audit, render

    text = (
        "account 111122223333\n"
        f"policy p {{\n  allow iam:PassRole on {json.dumps('arn:aws:iam::1:role/' + value)}\n"
        "  allow s3:* on *\n}\n"
        "role t { trust service ecs-tasks.amazonaws.com; attach p\n"
        f"  arn {json.dumps('arn:aws:iam::111122223333:role/' + value)} }}\n"
        "cluster c {\n  task w { task-role t; launch fargate }\n}\n"
    )
    file = tmp_path / "estate.pel"
    file.write_text(text, encoding="utf-8")
    result = audit(load_paths([str(file)]))
    assert result.findings
    out = render(result, "table")
    assert "\x1b" not in out and "\x07" not in out
    visible = value.replace("\x1b", "\ufffd").replace("\x07", "\ufffd")
    assert "role/" + visible[:3] in out  # the role ARN is shown (cut by the cell), escaped


def test_eval_table_output_escapes_markup_and_controls_in_policy_names(tmp_path: Path) -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "[bold]x\x1b[2J", "Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    file = tmp_path / "p.json"
    file.write_text(json.dumps(document), encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            *("eval", "--principal", "arn:aws:iam::1:role/r", "--action", "s3:GetObject"),
            *("--resource", "*", "--identity", str(file)),
        ],
    )
    assert result.exit_code == 0
    assert "\x1b[2J" not in result.output
    assert "[bold]x\ufffd[2J" in result.output


def test_diagnostics_escape_controls_in_message_path_and_source_line() -> None:
    path = "evil\x1b]0;title\x07.pel"
    diagnostic = Diagnostic(
        "PE021",
        Severity.ERROR,
        "undefined role `\x1b[31mred`",
        Span(path, 1, 3),
        help="did you mean `\x1b[0m`?",
    )
    out = render_plain(diagnostic, SourceText({path: "a \x1b[31mred"}))
    assert "\x1b" not in out and "\x07" not in out
    assert "undefined role `\ufffd[31mred`" in out


def test_long_source_lines_are_shown_as_a_window_around_the_caret() -> None:
    line = "x" * 5000 + "BAD" + "y" * 5000
    diagnostic = Diagnostic("PE060", Severity.ERROR, "malformed JSON", Span("a.json", 1, 5001))
    shown = render_plain(diagnostic, SourceText({"a.json": line})).splitlines()
    assert len(shown[2]) < 200
    caret = shown[3].index("^")
    assert shown[2][caret : caret + 3] == "BAD"


# -- atomic writes -------------------------------------------------------------------------------


def test_fmt_failure_mid_write_leaves_the_original_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from policyeval import pelcli

    original = "policy p {\nallow   s3:GetObject    on *\n}\n"
    file = tmp_path / "a.pel"
    file.write_text(original, encoding="utf-8")
    real_fdopen = os.fdopen

    class Exploding(io.TextIOWrapper):
        def write(self, text: str) -> int:
            super().write(text[: len(text) // 2])
            raise OSError(28, "No space left on device")

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = real_fdopen(fd, "wb")
        return Exploding(handle, encoding="utf-8", newline="")

    monkeypatch.setattr(pelcli.os, "fdopen", fdopen)
    with pytest.raises(OSError):
        pelcli.run_fmt([file], check=False)
    assert file.read_text(encoding="utf-8") == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pel"]  # no temp file left


def test_fmt_replaces_the_file_in_one_step_keeping_its_mode(tmp_path: Path) -> None:
    from policyeval import pelcli

    file = tmp_path / "a.pel"
    file.write_text("policy p {\nallow   s3:GetObject    on *\n}\n", encoding="utf-8")
    file.chmod(0o640)
    before = file.stat().st_ino
    assert pelcli.run_fmt([file], check=False) == 0
    assert file.stat().st_ino != before  # a new file renamed over the old one
    assert file.stat().st_mode & 0o777 == 0o640
    assert "allow s3:GetObject on *" in file.read_text(encoding="utf-8")

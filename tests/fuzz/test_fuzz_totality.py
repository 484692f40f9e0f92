"""Fuzzing: every entry point is total on hostile input.

Property: the result is a model, a decision, or diagnostics, never an uncaught exception;
every error diagnostic is coded (PE0xx), worded in the house style and placed at
file:line:col; the CLI exits 0, 1 or 2 and never prints a traceback. The `ci` profile runs
100 examples per test; `pytest --deep` (with `--hypothesis-profile=deep`) runs the long
campaigns marked `slow`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fuzz_strategies import (
    JSON_SEEDS,
    PEL_SEEDS,
    SEEDS,
    YAML_SEEDS,
    broken_pel,
    cases,
    contexts,
    mutated_text,
    pel_grammar_text,
    policies,
    structurally_mutated_json,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from policyeval.batch import decide_case, run_lines
from policyeval.cli import app
from policyeval.errors import Diagnostic, Severity, SourceText, render_plain
from policyeval.model.workspace import Workspace
from policyeval.pel import load_pel_text
from policyeval.readers.iam_json import load_policy_text
from policyeval.sources import load_text

QUIET = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
DEEP = settings(
    max_examples=3000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def assert_well_formed(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], path: str) -> None:
    """Coded, house-style, placed: what every input problem must look like."""
    for d in diagnostics:
        assert d.code.startswith("PE0") and len(d.code) == 5, d
        assert d.message and d.message == d.message.strip(), d
        assert not d.message.endswith("."), d
        assert "Traceback" not in d.message and "Error(" not in d.message, d
        if d.severity is Severity.ERROR:
            assert d.span is not None, d
            assert d.span.line >= 1 and d.span.column >= 1, d
        render_plain(d, SourceText({path: ""}))  # renders without raising


def check_workspace(workspace: Workspace, path: str) -> None:
    assert isinstance(workspace, Workspace)
    assert_well_formed(workspace.diagnostics, path)


# -- readers ---------------------------------------------------------------------------------


@QUIET
@given(mutated_text(SEEDS))
@example(("iam.json", '{"Version": "2012-10-17", "Statement": ' + "[" * 600 + "]" * 600 + "}"))
@example(("cfn.yaml", "a: &a [1]\nb: *a\nc: !Ref\n"))
@example(("k.yaml", "\ufeff---\n- !GetAtt\n"))
@example(("x.json", '{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": 1e999}]}'))
def test_every_reader_is_total_on_mutated_inputs(named: tuple[str, str]) -> None:
    name, text = named
    check_workspace(load_text(text, name), name)


@QUIET
@given(structurally_mutated_json())
def test_every_reader_is_total_on_structurally_mutated_json(named: tuple[str, str]) -> None:
    name, text = named
    check_workspace(load_text(text, name), name)


@QUIET
@given(mutated_text(YAML_SEEDS), st.sampled_from([".yaml", ".json", ".template", ""]))
def test_yaml_inputs_under_any_extension_are_total(named: tuple[str, str], suffix: str) -> None:
    name, text = named
    check_workspace(load_text(text, name + suffix), name + suffix)


@QUIET
@given(policies)
def test_iam_policy_reader_is_total_on_random_documents(document: Any) -> None:
    policy, diagnostics = load_policy_text(json.dumps(document), "p.json")
    assert policy is not None or diagnostics
    assert_well_formed(diagnostics, "p.json")


def test_load_file_reads_every_seed_without_error_diagnostics_of_its_own(tmp_path: Path) -> None:
    """The seeds themselves are valid: the campaign starts from inputs that load."""
    from policyeval.sources import load_file

    for name, text in JSON_SEEDS.items():
        file = tmp_path / name
        file.write_text(text, encoding="utf-8")
        workspace = load_file(str(file))
        assert not [d for d in workspace.diagnostics if d.severity is Severity.ERROR], name


# -- the .pel language ----------------------------------------------------------------------


@QUIET
@given(pel_grammar_text)
def test_pel_loader_is_total_on_grammar_shaped_text(text: str) -> None:
    workspace = load_pel_text(text, "gen.pel", base_dir="/nonexistent-policyeval-dir")
    check_workspace(workspace, "gen.pel")


@QUIET
@given(broken_pel())
@example('policy p { allow s3:GetObject on "a" if StringLike k = "' + "*a" * 500 + '" }')
@example("role r { attach " + ", ".join(["p"] * 2000) + " }")
@example("policy p {" * 3000 + "}" * 3000)
def test_pel_loader_is_total_on_corrupted_grammar_shaped_text(text: str) -> None:
    workspace = load_pel_text(text, "bad.pel", base_dir="/nonexistent-policyeval-dir")
    check_workspace(workspace, "bad.pel")


@QUIET
@given(mutated_text(PEL_SEEDS))
def test_pel_loader_is_total_on_mutated_samples(named: tuple[str, str]) -> None:
    _, text = named
    root = Path(__file__).resolve().parent.parent.parent / "samples"
    workspace = load_pel_text(text, "estate.pel", base_dir=root, root=root)
    check_workspace(workspace, "estate.pel")


@QUIET
@given(st.one_of(pel_grammar_text, broken_pel(), st.text(max_size=300)))
def test_formatter_is_total(text: str) -> None:
    from policyeval.syntax.formatter import format_pel_checked

    formatted, diagnostics = format_pel_checked(text, "f.pel")
    assert formatted is not None or diagnostics
    assert_well_formed(diagnostics, "f.pel")


# -- the evaluator ----------------------------------------------------------------------------

DECISIONS = {"Allow", "ExplicitDeny", "ImplicitDeny", "Conditional", None}


def check_answer(answer: dict[str, Any]) -> None:
    assert answer["decision"] in DECISIONS or isinstance(answer["decision"], str)
    if answer["decision"] is None:
        assert isinstance(answer["error"], str) and answer["error"]
        assert "Traceback" not in answer["error"]
    json.dumps(answer)  # the answer is always serialisable


@QUIET
@given(cases)
@example({"principal": "a", "action": "s3:x", "resource": "*", "context": {"k": [[1]]}})
@example({"principal": "a", "action": "s3:x", "resource": "*", "scps": [[{"a": 1}], "x"]})
def test_batch_decision_is_total_on_random_cases(case: dict[str, Any]) -> None:
    check_answer(decide_case(case))


@QUIET
@given(st.lists(policies, min_size=1, max_size=3), contexts, st.sampled_from(["s3:GetObject", "*"]))
def test_evaluator_decides_every_valid_policy_with_any_context(
    documents: list[Any], context: dict[str, Any], action: str
) -> None:
    case = {
        "principal": "arn:aws:iam::111122223333:role/r",
        "action": action,
        "resource": "arn:aws:s3:::b/k",
        "identityPolicies": documents,
        "context": context,
    }
    check_answer(decide_case(case))


@QUIET
@given(st.lists(st.one_of(cases.map(json.dumps), st.text(max_size=40)), max_size=4))
def test_batch_lines_answer_every_line(lines: list[str]) -> None:
    answers = [json.loads(line) for line in run_lines(lines)]
    assert len(answers) == sum(1 for line in lines if line.strip())
    for answer in answers:
        check_answer(answer)


# -- the CLI --------------------------------------------------------------------------------

runner = CliRunner()


def run_cli(args: list[str]) -> Any:
    result = runner.invoke(app, args, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def cli_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-fuzz")


@settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.one_of(mutated_text(SEEDS), structurally_mutated_json()))
def test_cli_effective_and_graph_exit_0_1_or_2_on_mutated_files(
    cli_dir: Path, named: tuple[str, str]
) -> None:
    name, text = named
    file = cli_dir / name
    file.write_text(text, encoding="utf-8", errors="surrogatepass")
    run_cli(["effective", str(file), "--format", "json"])
    run_cli(["graph", str(file)])


@settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.one_of(pel_grammar_text, broken_pel()))
def test_cli_fmt_check_and_convert_exit_0_1_or_2(cli_dir: Path, text: str) -> None:
    file = cli_dir / "gen.pel"
    file.write_text(text, encoding="utf-8")
    run_cli(["fmt", "--check", str(file)])
    run_cli(["convert", str(file), "--to", "json"])


@settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(policies, st.lists(st.text(max_size=10), max_size=2))
def test_cli_eval_exit_0_1_or_2_on_random_policies(
    cli_dir: Path, document: Any, context: list[str]
) -> None:
    file = cli_dir / "policy.json"
    file.write_text(json.dumps(document), encoding="utf-8")
    args = ["eval", "--principal", "arn:aws:iam::111122223333:role/r", "--action", "s3:GetObject"]
    args += ["--resource", "arn:aws:s3:::b/k", "--identity", str(file)]
    for item in context:
        args += ["--context", item]
    run_cli(args)


def test_cli_as_a_process_prints_no_traceback_on_garbage(tmp_path: Path) -> None:
    """The real entry point (not CliRunner): a binary file and a directory loop."""
    import subprocess
    import sys

    (tmp_path / "junk.json").write_bytes(b"\xff\xfe\x00{" * 100)
    (tmp_path / "loop").symlink_to(tmp_path)
    for args in (["effective", str(tmp_path)], ["fmt", "--check", str(tmp_path)]):
        done = subprocess.run(
            [sys.executable, "-m", "policyeval", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode in (0, 1, 2)
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr


# -- deep campaigns (pytest --deep) ------------------------------------------------------------


@pytest.mark.slow
@DEEP
@given(st.one_of(mutated_text(SEEDS), structurally_mutated_json()))
def test_deep_readers(named: tuple[str, str]) -> None:
    name, text = named
    check_workspace(load_text(text, name), name)


@pytest.mark.slow
@DEEP
@given(st.one_of(pel_grammar_text, broken_pel(), mutated_text(PEL_SEEDS).map(lambda n: n[1])))
def test_deep_pel(text: str) -> None:
    check_workspace(load_pel_text(text, "deep.pel", base_dir="/nonexistent-policyeval-dir"), "d")


@pytest.mark.slow
@DEEP
@given(cases)
def test_deep_evaluator(case: dict[str, Any]) -> None:
    check_answer(decide_case(case))

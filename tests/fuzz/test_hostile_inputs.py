"""Hostile inputs end in a result or a limit diagnostic (PE09x), with bounded work.

No test asserts a time (timing lives in bench/): the work is bounded by construction and the
outcome is asserted. Each test runs under a generous alarm so that a regression to a hang
fails instead of blocking CI.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from policyeval import catalog
from policyeval.batch import decide_case, run_lines
from policyeval.compiler.wildcard import compile_pattern, wildcard_match
from policyeval.limits import MAX_POLICY_ENTRIES
from policyeval.pel import load_pel, load_pel_text
from policyeval.readers.iam_json import load_policy_text
from policyeval.readers.positions import MAX_DEPTH
from policyeval.sources import load_paths, load_text

GUARD_SECONDS = 120
ROLE = "arn:aws:iam::111122223333:role/r"


class Hung(Exception):
    pass


@pytest.fixture(autouse=True)
def alarm_guard() -> Iterator[None]:
    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise Hung(f"still running after {GUARD_SECONDS} s: the work is not bounded")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(GUARD_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def codes(diagnostics: object) -> list[str]:
    return [d.code for d in diagnostics]  # type: ignore[attr-defined]


def policy(statement: dict[str, object]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": [statement]}


# -- backtracking patterns, every matcher -------------------------------------------------------

HOSTILE = "*a" * 2000 + "*b"
LONG = "a" * 100_000


def test_action_and_resource_matcher_rejects_backtracking_pattern() -> None:
    assert not wildcard_match(HOSTILE, LONG)
    assert wildcard_match(HOSTILE, LONG + "b")
    assert not wildcard_match(HOSTILE, LONG, fold_case=True)


def test_consecutive_stars_compile_to_one_piece() -> None:
    """100,000 stars are one `*`: matching never walks 100,000 pieces."""
    matcher = compile_pattern("*" * 100_000 + "x")
    assert len(matcher.pieces) == 2
    assert matcher.matches("yx") and not matcher.matches("xy")


def test_catalog_matcher_rejects_backtracking_pattern() -> None:
    assert not catalog.wildcard_match(HOSTILE, "a" * 5000)
    assert catalog.wildcard_match("*" * 100_000 + "object", "s3:GetObject")


def test_catalog_expansion_of_hostile_patterns_is_bounded() -> None:
    """Found by this campaign: `*:` followed by 100,000 stars walked every star for every
    catalog action (minutes); it now compiles once and matches in one pass per action."""
    expanded = catalog.expand("*:" + "*" * 100_000 + "GetObject")
    assert "s3:GetObject" in {info.action for info in expanded.actions}
    assert catalog.expand("s3:" + "*e" * 5000 + "*b").unknown is not None
    assert catalog.expand("*" * 100_000 + ":x").unknown is not None


@pytest.mark.parametrize("operator", ["StringLike", "StringNotLike", "ArnLike", "ArnNotLike"])
def test_condition_matchers_reject_backtracking_patterns(operator: str) -> None:
    prefix = "arn:aws:s3:::" if operator.startswith("Arn") else ""
    case = {
        "principal": ROLE,
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::b/k",
        "identityPolicies": [
            policy(
                {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "*",
                    "Condition": {operator: {"aws:PrincipalTag/x": prefix + HOSTILE}},
                }
            )
        ],
        "context": {"aws:PrincipalTag/x": prefix + LONG},
    }
    answer = decide_case(case)
    expected = "ImplicitDeny" if "Not" not in operator else "Allow"
    assert answer["decision"] == expected


def test_resource_pattern_with_backtracking_shape_against_long_arn() -> None:
    case = {
        "principal": ROLE,
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::" + LONG,
        "identityPolicies": [
            policy({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::" + HOSTILE})
        ],
    }
    assert decide_case(case)["decision"] == "ImplicitDeny"


# -- big files ------------------------------------------------------------------------------------

FIFTY_MB = 50 * 1024 * 1024


@pytest.fixture(scope="module")
def fifty_mb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("big")
    file = folder / "big.json"
    with file.open("w", encoding="utf-8") as handle:
        handle.write('{"Version": "2012-10-17", "Statement": [')
        handle.write(" " * (FIFTY_MB - 64))
        handle.write("]}")
    return file


def test_file_over_the_size_limit_is_refused_with_pe092(fifty_mb: Path) -> None:
    workspace = load_paths([str(fifty_mb)], max_bytes=16 * 1024 * 1024)
    (diagnostic,) = workspace.diagnostics
    assert diagnostic.code == "PE092"
    assert diagnostic.message == f"file is larger than the limit of {16 * 1024 * 1024} bytes"
    assert diagnostic.span is not None and diagnostic.span.path == str(fifty_mb)


def test_fifty_megabyte_file_under_the_default_limit_is_read(fifty_mb: Path) -> None:
    workspace = load_paths([str(fifty_mb)])
    assert "PE092" not in codes(workspace.diagnostics)
    assert [p.statements for p in workspace.policies] == [()]


def test_cli_max_file_size_option_refuses_the_big_file(fifty_mb: Path) -> None:
    from typer.testing import CliRunner

    from policyeval.cli import app

    result = CliRunner().invoke(app, ["effective", str(fifty_mb), "--max-file-size", "1M"])
    assert result.exit_code == 2
    assert "PE092 error: file is larger than the limit of 1048576 bytes" in result.output


def test_fifty_megabyte_yaml_is_parsed_in_one_pass(tmp_path: Path) -> None:
    file = tmp_path / "big.yaml"
    file.write_text("x: " + "y" * FIFTY_MB + "\n", encoding="utf-8")
    workspace = load_paths([str(file)])
    assert codes(workspace.diagnostics) == ["PE069"]  # read, then not recognised


def test_pel_file_over_its_limit_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    file = tmp_path / "big.pel"
    file.write_text("# " + "x" * (9 * 1024 * 1024), encoding="utf-8")
    (diagnostic,) = load_pel(file).diagnostics
    assert (diagnostic.code, diagnostic.message) == (
        "PE005",
        f"file is larger than the limit of {8 * 1024 * 1024} bytes",
    )


def test_pel_import_over_the_limit_is_refused_with_pe092(tmp_path: Path) -> None:
    (tmp_path / "big.json").write_text(json.dumps(policy({"Effect": "Allow"})) + " " * 5000)
    (tmp_path / "main.pel").write_text('policy p = import "big.json"\n', encoding="utf-8")
    workspace = load_pel(tmp_path / "main.pel", max_import_bytes=1000)
    (diagnostic,) = workspace.diagnostics
    assert diagnostic.code == "PE092"
    assert diagnostic.message == "imported file `big.json` is larger than the limit of 1000 bytes"


# -- deep nesting ------------------------------------------------------------------------------


def test_ten_thousand_levels_of_json_give_pe090() -> None:
    (diagnostic,) = load_text("[" * 10_000 + "]" * 10_000, "deep.json").diagnostics
    assert diagnostic.code == "PE090"
    assert diagnostic.message == f"nesting deeper than the limit of {MAX_DEPTH}"
    assert diagnostic.span is not None and diagnostic.span.column == MAX_DEPTH + 1


@pytest.mark.parametrize(
    "text",
    ["[" * 10_000 + "]" * 10_000, "- " * 10_000 + "x\n"],
    ids=["flow", "block"],
)
def test_ten_thousand_levels_of_yaml_give_pe090(text: str) -> None:
    assert codes(load_text(text, "deep.yaml").diagnostics) == ["PE090"]


def test_ten_thousand_nested_pel_blocks_give_a_syntax_error() -> None:
    text = "policy p {\n" + "allow s3:* on {\n" * 10_000 + "}\n" * 10_001
    diagnostics = load_pel_text(text, "deep.pel").diagnostics
    assert diagnostics and all(d.code == "PE001" for d in diagnostics)
    assert len(diagnostics) <= 20


def test_deeply_nested_policy_imported_by_pel_gives_pe090(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text('{"Statement": ' + "[" * 10_000 + "]" * 10_000 + "}")
    (tmp_path / "main.pel").write_text('policy p = import "deep.json"\n')
    assert codes(load_pel(tmp_path / "main.pel").diagnostics) == ["PE090"]


def test_deeply_nested_batch_line_is_an_error_answer_not_a_crash() -> None:
    line = '{"principal": "a", "action": "s3:x", "resource": "*", "context": ' + "[" * 100_000
    (answer,) = [json.loads(a) for a in run_lines([line + "]" * 100_000 + "}"])]
    assert answer["decision"] is None and "line 1" in answer["error"]


def test_a_lone_surrogate_escape_in_a_case_is_echoed_escaped_not_a_crash() -> None:
    # The standard library reads `"\ud800"` (orjson does not) and orjson cannot write it:
    # the answer line used to raise and end the run.
    line = '{"id": "\\ud800", "principal": "arn:aws:iam::111122223333:role/r", '
    line += '"action": "s3:GetObject", "resource": "arn:aws:s3:::b/\\udfff"}'
    (text,) = list(run_lines([line]))
    answer = json.loads(text)
    assert answer["id"] == "\ud800" and answer["decision"] == "ImplicitDeny"
    assert text.isascii()


# -- huge statements and conditions -----------------------------------------------------------------


def test_statement_with_100000_actions_is_refused_with_pe093() -> None:
    actions = [f"s3:Get{i}Object" for i in range(100_000)]
    text = json.dumps(policy({"Effect": "Allow", "Action": actions, "Resource": "*"}))
    found, diagnostics = load_policy_text(text, "big.json")
    assert found is None
    (diagnostic,) = diagnostics
    assert (diagnostic.code, diagnostic.message) == (
        "PE093",
        f"policy holds 100001 entries, more than the limit of {MAX_POLICY_ENTRIES}",
    )


def test_statement_with_100000_actions_is_read_when_the_limit_is_raised() -> None:
    actions = [f"s3:Get{i}Object" for i in range(100_000)]
    text = json.dumps(policy({"Effect": "Allow", "Action": actions, "Resource": "*"}))
    found, diagnostics = load_policy_text(text, "big.json", max_entries=200_000)
    assert diagnostics == [] and found is not None
    assert len(found.statements[0].action or ()) == 100_000


def test_decision_over_100000_actions_and_100000_condition_values() -> None:
    """The evaluator itself (no reader limit in batch mode beyond the case) decides."""
    values = [f"v{i}" for i in range(100_000)]
    actions = [f"s3:Get{i}Object" for i in range(100_000)] + ["s3:GetObject"]
    statement = {
        "Effect": "Allow",
        "Action": actions,
        "Resource": "*",
        "Condition": {"StringLike": {"aws:PrincipalTag/x": values}},
    }
    document = policy(statement)
    case = {
        "principal": ROLE,
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::b/k",
        "identityPolicies": [document],
        "context": {"aws:PrincipalTag/x": "v99999"},
    }
    answer = decide_case(case)
    assert answer["decision"] is None and "PE093" in answer["error"]


def test_pel_policy_with_100000_actions_is_refused_with_pe093() -> None:
    actions = ", ".join(f"s3:Get{i}Object" for i in range(100_000))
    text = f"policy big {{\n  allow {actions} on *\n}}\n"
    workspace = load_pel_text(text, "big.pel")
    assert codes(workspace.diagnostics) == ["PE093"]
    assert workspace.policies[0].statements == ()


def test_condition_with_100000_values_is_refused_in_pel() -> None:
    values = ", ".join(f'"v{i}"' for i in range(100_000))
    text = f"policy big {{\n  allow s3:GetObject on * if StringLike aws:PrincipalTag/x = {values}\n}}\n"
    assert codes(load_pel_text(text, "big.pel").diagnostics) == ["PE093"]


# -- YAML alias bombs ------------------------------------------------------------------------------


def test_billion_laughs_gives_pe091() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        name, previous = chr(97 + i), chr(96 + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    (diagnostic,) = load_text("\n".join(lines) + "\n", "bomb.yaml").diagnostics
    assert diagnostic.code == "PE091"
    assert diagnostic.message == "document expands to more than 1000000 values"


def test_recursive_alias_gives_pe091() -> None:
    (diagnostic,) = load_text("a: &a\n  b: *a\n", "loop.yaml").diagnostics
    assert (diagnostic.code, diagnostic.message) == (
        "PE091",
        "alias `a` refers to a value that contains it",
    )

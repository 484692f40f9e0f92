"""docs/diagnostics.md lists every input/syntax/limit code the source uses, and only those;
the wording of the most common diagnostics is pinned."""

from __future__ import annotations

import re
from pathlib import Path

from policyeval.pel import load_pel, load_pel_text
from policyeval.readers.iam_json import load_policy_text
from policyeval.sources import load_text

ROOT = Path(__file__).resolve().parent.parent.parent
CODE = re.compile(r"\bPE0\d\d\b")


def codes_in_source() -> set[str]:
    """Codes written as string literals (`"PE045"`) or in f-strings of messages."""
    found: set[str] = set()
    for file in (ROOT / "policyeval").rglob("*.py"):
        text = file.read_text(encoding="utf-8")
        found.update(re.findall(r"[\"'](PE0\d\d)[\"']", text))
        found.update(re.findall(r"f?\"[^\"\n]*\b(PE0\d\d) error", text))
    return found


def codes_in_table() -> set[str]:
    doc = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    return {m.group(1) for m in re.finditer(r"^\| (PE0\d\d) \|", doc, re.MULTILINE)}


def test_every_code_in_the_source_is_in_the_table_and_vice_versa() -> None:
    source, table = codes_in_source(), codes_in_table()
    assert source, "the scan found no codes at all"
    assert sorted(source - table) == [], "codes missing from docs/diagnostics.md"
    assert sorted(table - source) == [], "codes in docs/diagnostics.md that the source never uses"


def test_limit_codes_stay_in_their_range() -> None:
    doc = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    limits = doc.split("## Limits", 1)[1]
    assert set(CODE.findall(limits)) - {"PE005", "PE028"} <= {f"PE09{i}" for i in range(10)}


# -- pinned wording of the most common diagnostics ------------------------------------------------


def one(diagnostics: object) -> tuple[str, str, str | None, str]:
    (d,) = diagnostics  # type: ignore[misc]
    return d.code, d.message, d.help, str(d.span)


def test_malformed_json_wording() -> None:
    text = '{"Version": "2012-10-17",\n "Statement": [{"Effect": "Allow",}]}'
    assert one(load_text(text, "p.json").diagnostics) == (
        "PE060",
        "malformed JSON: expected a quoted key, found `}`",
        None,
        "p.json:2:35",
    )


def test_unknown_policy_element_wording() -> None:
    _, diagnostics = load_policy_text('{"Statement": [], "Statment": 1}', "p.json")
    assert one(diagnostics) == (
        "PE041",
        "unknown policy element `Statment`",
        "did you mean `Statement`?",
        "p.json:1:19",
    )


def test_bad_effect_wording() -> None:
    text = '{"Statement": [{"Effect": "Alow", "Action": "s3:*", "Resource": "*"}]}'
    _, diagnostics = load_policy_text(text, "p.json")
    code, message, _help, where = one(diagnostics)
    assert (code, message, where) == (
        "PE045",
        "`Effect` must be `Allow` or `Deny`, not `Alow`",
        "p.json:1:27",
    )


def test_unknown_operator_wording_with_did_you_mean() -> None:
    text = (
        '{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",\n'
        '  "Condition": {"StringLik": {"aws:username": "a"}}}]}'
    )
    _, diagnostics = load_policy_text(text, "p.json")
    code, message, help_text, where = one(diagnostics)
    assert (code, message, help_text) == (
        "PE050",
        "unknown condition operator `StringLik`",
        "did you mean `StringLike`?",
    )
    assert where.startswith("p.json:2:")
    pel = 'policy p {\n  allow s3:GetObject on * if StringLik k = "v"\n}\n'
    assert one(load_pel_text(pel, "a.pel").diagnostics)[:3] == (
        "PE002",
        "unknown condition operator `StringLik`",
        "did you mean `StringLike`?",
    )


def test_pel_syntax_error_wording_names_the_expected_tokens() -> None:
    text = "policy p {\n  allow s3:GetObject on }\n"
    assert one(load_pel_text(text, "a.pel").diagnostics) == (
        "PE001",
        "expected `all`, a name or value or a string, found `}`",
        None,
        "a.pel:2:25",
    )


def test_undefined_role_wording() -> None:
    text = "role web-task {}\ncluster c {\n  task t { task-role web-tsk }\n}\n"
    assert one(load_pel_text(text, "a.pel").diagnostics) == (
        "PE021",
        "undefined role `web-tsk`",
        "did you mean `web-task`?",
        "a.pel:3:22",
    )


def test_import_outside_project_wording(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "secret.json").write_text('{"Statement": []}', encoding="utf-8")
    (project / "main.pel").write_text('\npolicy p = import "../secret.json"\n', encoding="utf-8")
    code, message, help_text, where = one(load_pel(project / "main.pel").diagnostics)
    assert (code, message, where) == (
        "PE028",
        "import `../secret.json` leaves the project folder",
        f"{project / 'main.pel'}:2:1",
    )
    assert help_text is not None and "symlinks" in help_text

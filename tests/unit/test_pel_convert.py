"""`.pel` ↔ IAM JSON conversion and the `fmt` / `convert` commands."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from policyeval.cli import app
from policyeval.convert import json_to_pel, pel_to_json, policy_to_json
from policyeval.syntax.parser import parse_pel

runner = CliRunner()


def test_pel_policy_converts_to_standard_aws_json() -> None:
    text = (
        'policy p { id "x"\n allow s3:GetObject on "arn:aws:s3:::b/*" sid "S"\n'
        '  principal aws "arn:aws:iam::1:root", aws "arn:aws:iam::2:root",\n'
        '    service "s.amazonaws.com"\n'
        '  if StringEquals aws:PrincipalOrgID = "o-1" }'
    )
    out, diagnostics = pel_to_json(text, "p.pel")
    assert diagnostics == [] and out is not None
    document = json.loads(out)
    assert list(document) == ["Version", "Id", "Statement"]
    assert document["Statement"] == [
        {
            "Sid": "S",
            "Effect": "Allow",
            "Principal": {
                "AWS": ["arn:aws:iam::1:root", "arn:aws:iam::2:root"],
                "Service": "s.amazonaws.com",
            },
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}},
        }
    ]


def test_principal_star_converts_to_bare_star() -> None:
    (policy,) = parse_pel("policy p { allow a:b principal * }", "p")[0].policies
    assert policy_to_json(policy)["Statement"][0]["Principal"] == "*"


def test_json_converts_to_pel_and_back() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "NotAction": ["iam:*", "sts:*"],
                "NotResource": "arn:aws:s3:::b",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": False}},
            }
        ],
    }
    pel, diagnostics = json_to_pel(json.dumps(document), "guard.json")
    assert diagnostics == [] and pel is not None
    assert pel.startswith("policy guard {")
    back, _ = pel_to_json(pel, "guard.pel")
    assert back is not None
    expected = json.loads(json.dumps(document).replace("false", '"false"'))
    assert json.loads(back) == expected


def test_several_policies_need_a_choice() -> None:
    text = "policy a { allow x:y }\npolicy b { allow x:z }"
    out, diagnostics = pel_to_json(text, "two.pel")
    assert out is None and diagnostics[0].code == "PE032"
    chosen, _ = pel_to_json(text, "two.pel", "b")
    assert chosen is not None and json.loads(chosen)["Statement"][0]["Action"] == "x:z"


def test_fmt_check_exit_codes(tmp_path: Path) -> None:
    ugly = tmp_path / "a.pel"
    ugly.write_text("role r {attach p}", encoding="utf-8")
    assert runner.invoke(app, ["fmt", "--check", str(ugly)]).exit_code == 1
    assert ugly.read_text(encoding="utf-8") == "role r {attach p}"
    assert runner.invoke(app, ["fmt", str(ugly)]).exit_code == 0
    assert ugly.read_text(encoding="utf-8") == "role r {\n  attach p\n}\n"
    assert runner.invoke(app, ["fmt", "--check", str(tmp_path)]).exit_code == 0
    assert [p.name for p in tmp_path.iterdir()] == ["a.pel"]  # no temp files left


def test_fmt_reports_syntax_errors_of_every_file_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a.pel").write_text("role r {", encoding="utf-8")
    (tmp_path / "b.pel").write_text("policy p { allow }", encoding="utf-8")
    result = runner.invoke(app, ["fmt", "--check", str(tmp_path)])
    assert result.exit_code == 2
    assert "a.pel:1:" in result.output and "b.pel:1:" in result.output
    assert "PE001" in result.output


def test_convert_command_both_directions(tmp_path: Path) -> None:
    source = tmp_path / "p.json"
    source.write_text(
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}),
        encoding="utf-8",
    )
    to_pel = runner.invoke(app, ["convert", str(source)])
    assert to_pel.exit_code == 0 and to_pel.output == "policy p {\n  allow *\n}\n"
    pel = tmp_path / "p.pel"
    pel.write_text(to_pel.output, encoding="utf-8")
    to_json = runner.invoke(app, ["convert", str(pel), "--to", "json"])
    assert to_json.exit_code == 0
    assert json.loads(to_json.output) == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*"}],
    }
    broken = tmp_path / "x.pel"
    broken.write_text("policy {", encoding="utf-8")
    assert runner.invoke(app, ["convert", str(broken)]).exit_code == 2

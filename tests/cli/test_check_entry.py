"""`policyeval check` through the console entry point: the fast path parses the same
options as the typer command and gives the same exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

WIDE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}
NARROW = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"}],
}


def check(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "policyeval", "check", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_fails_on_a_high_finding_in_the_changed_file(tmp_path: Path) -> None:
    (tmp_path / "wide.json").write_text(json.dumps(WIDE, indent=2))
    result = check(tmp_path, "wide.json")
    assert result.returncode == 1
    assert "wide.json:4:5: PE103 high" in result.stdout


def test_check_passes_a_clean_file_and_honours_fail_on(tmp_path: Path) -> None:
    (tmp_path / "narrow.json").write_text(json.dumps(NARROW))
    assert check(tmp_path, "narrow.json").returncode == 0
    (tmp_path / "wide.json").write_text(json.dumps(WIDE))
    assert check(tmp_path, "wide.json", "--fail-on", "critical").returncode == 0


def test_check_usage_errors_exit_2_without_a_traceback(tmp_path: Path) -> None:
    for args in (("--bogus",), ("--fail-on", "loud"), ("--max-file-size", "lots")):
        result = check(tmp_path, *args)
        assert result.returncode == 2, args
        assert "Traceback" not in result.stderr


def test_check_help_goes_to_the_full_cli(tmp_path: Path) -> None:
    result = check(tmp_path, "--help")
    assert result.returncode == 0
    assert "--max-file-size" in result.stdout

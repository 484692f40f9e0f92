"""`.pre-commit-hooks.yaml` with the real pre-commit framework, in a temporary git repo.

pre-commit clones this checkout at a commit and builds the hook's virtualenv by
pip-installing it, which needs the package index. The install happens once per session
(one PRE_COMMIT_HOME); when pip cannot reach the index the test says so and is skipped
for that reason only — any other failure fails the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = Path("/work/main/.venv/bin/pre-commit")
NETWORK_ERRORS = (
    "Could not find a version",
    "No matching distribution",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "ConnectionError",
)

CLEAN = """account 111122223333
policy app { allow s3:GetObject on "arn:aws:s3:::assets/*" }
role app {
  trust { allow sts:AssumeRole principal service "ecs-tasks.amazonaws.com" if StringEquals aws:SourceAccount = "111122223333" }
  attach app
}
cluster shop {
  capacity serverless { launch fargate }
  task web { task-role app; network awsvpc; launch fargate; runs-on serverless }
}
"""

RISKY_POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["iam:PassRole", "ecs:RunTask"], "Resource": "*"}
  ]
}
"""


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)


@pytest.fixture(scope="session")
def hook_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    if not PRE_COMMIT.exists() or shutil.which("git") is None:
        pytest.fail(f"pre-commit ({PRE_COMMIT}) and git are required for this test")
    env = dict(os.environ)
    env["PRE_COMMIT_HOME"] = str(tmp_path_factory.mktemp("pre-commit-home"))
    env.pop("PYTHONPATH", None)
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(key, None)
    yield env


def _rev() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _repo(tmp: Path, env: dict[str, str], pass_filenames: bool = True) -> Path:
    repo = tmp / "estate"
    repo.mkdir()
    hook = "policyeval" if pass_filenames else "policyeval-all"
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {ROOT}\n  rev: {_rev()}\n  hooks:\n  - id: {hook}\n", encoding="utf-8"
    )
    for args in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "config", "user.email", "dev@example.com"],
        ["git", "config", "user.name", "dev"],
        ["git", "add", ".pre-commit-config.yaml"],
        ["git", "commit", "-qm", "config", "--no-verify"],
    ):
        assert _run(args, repo, env).returncode == 0
    installed = _run([str(PRE_COMMIT), "install"], repo, env)
    assert installed.returncode == 0, installed.stderr
    built = _run([str(PRE_COMMIT), "install-hooks"], repo, env)
    if built.returncode != 0:
        log = built.stdout + built.stderr
        home = Path(env["PRE_COMMIT_HOME"]) / "pre-commit.log"
        if home.exists():
            log += home.read_text(encoding="utf-8", errors="replace")
        if any(marker in log for marker in NETWORK_ERRORS):
            pytest.skip("pre-commit could not pip-install the hook: package index unreachable")
        pytest.fail(f"pre-commit could not build the hook environment:\n{log[-3000:]}")
    return repo


def test_clean_commit_passes_and_over_privileged_role_is_refused(
    tmp_path: Path, hook_env: dict[str, str]
) -> None:
    repo = _repo(tmp_path, hook_env)
    (repo / "shop.pel").write_text(CLEAN, encoding="utf-8")
    assert _run(["git", "add", "shop.pel"], repo, hook_env).returncode == 0
    clean = _run(["git", "commit", "-qm", "clean estate"], repo, hook_env)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    (repo / "policies").mkdir()
    (repo / "policies" / "deployer.json").write_text(RISKY_POLICY, encoding="utf-8")
    assert _run(["git", "add", "policies/deployer.json"], repo, hook_env).returncode == 0
    risky = _run(["git", "commit", "-qm", "deployer role"], repo, hook_env)
    output = risky.stdout + risky.stderr
    assert risky.returncode != 0, output
    assert "PE102" in output
    assert "policies/deployer.json:4:" in output
    head = _run(["git", "log", "--oneline"], repo, hook_env).stdout
    assert "deployer role" not in head


def test_whole_workspace_variant_runs_without_filenames(
    tmp_path: Path, hook_env: dict[str, str]
) -> None:
    repo = _repo(tmp_path, hook_env, pass_filenames=False)
    (repo / "shop.pel").write_text(CLEAN, encoding="utf-8")
    (repo / "old.json").write_text(RISKY_POLICY, encoding="utf-8")
    _run(["git", "add", "old.json"], repo, hook_env)
    _run(["git", "commit", "-qm", "legacy", "--no-verify"], repo, hook_env)
    assert _run(["git", "add", "shop.pel"], repo, hook_env).returncode == 0
    result = _run(["git", "commit", "-qm", "touch pel"], repo, hook_env)
    assert result.returncode != 0
    assert "old.json" in result.stdout + result.stderr  # an unchanged file is still checked

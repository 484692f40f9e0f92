"""Cold start of the pre-commit gate: `policyeval check` on one file, against Parliament.

Each run is a new process (what pre-commit starts for every commit) in a folder holding
only the file checked, so `check` loads nothing else:

- `policyeval check app.pel`: a small `.pel` estate (one policy, one role);
- `policyeval check policy.json`: one IAM policy document;
- `parliament --file policy.json` (1.6.4, from `bench/.peers-venv`, installed by
  `bench/audit_bench.py`'s `peer_commands`), the same JSON file.

Prints the median and the spread of `--repeat` runs (default 7), plus `python -c pass` as
the floor any Python tool pays, and the median CPU time (user + system), which moves less
than wall time when the machine is shared. The package's bytecode is compiled first, as
`pip install` (and so pre-commit's hook environment) compiles it: with
`PYTHONDONTWRITEBYTECODE` set, every run would otherwise compile the sources again. The first
policyeval run of the `.pel` file also fills the parser caches (`~/.cache/policyeval`: Lark's
parser, and the tree-less driver's tables, which later starts load without importing Lark);
it is reported apart as the very first start.
Measures; asserts nothing.

Run: `python -m bench.startup_bench [--repeat 7] [--no-peers]`.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench.audit_bench import ROOT, Run, peer_commands, run_child

PEL = """account 111122223333

policy assets-read {
  allow s3:GetObject, s3:ListBucket
    on "arn:aws:s3:::shop-assets", "arn:aws:s3:::shop-assets/*"
}

role shop-task { trust service ecs-tasks.amazonaws.com; attach assets-read }
"""

POLICY_JSON = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ReadReports",
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:ListBucket"],
      "Resource": ["arn:aws:s3:::acme-reports", "arn:aws:s3:::acme-reports/*"]
    },
    {
      "Sid": "Secrets",
      "Effect": "Allow",
      "Action": "secretsmanager:GetSecretValue",
      "Resource": "*"
    }
  ]
}
"""


def timings(command: list[str], cwd: Path, repeat: int, *, use_pty: bool = False) -> list[Run]:
    runs = []
    for _ in range(repeat):
        run = run_child(command, cwd=cwd, use_pty=use_pty, timeout=120)
        if run.failed is not None:
            print(f"  {' '.join(command[-3:])}: {run.failed}")
            return []
        runs.append(run)
    return runs


def show(name: str, runs: list[Run], reference: float | None) -> None:
    if not runs:
        print(f"| {name} | failed | | | | |")
        return
    walls = [r.wall for r in runs]
    median = statistics.median(walls)
    cpu = statistics.median(r.cpu for r in runs)
    ratio = f"{median / reference:.2f}×" if reference else ""
    print(f"| {name} | {median:.3f} | {min(walls):.3f} | {max(walls):.3f} | {cpu:.3f} | {ratio} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="cold `policyeval check` against Parliament")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args(argv)
    python = sys.executable
    # As installed: pip byte-compiles a package (pre-commit's hook environment included).
    compileall.compile_dir(ROOT / "policyeval", quiet=1)
    # The worktree's package, whatever is installed in the virtualenv.
    with tempfile.TemporaryDirectory(prefix="policyeval-startup-") as tmp:
        pel_dir, json_dir = Path(tmp, "pel"), Path(tmp, "json")
        pel_dir.mkdir()
        json_dir.mkdir()
        (pel_dir / "app.pel").write_text(PEL, encoding="utf-8")
        (json_dir / "policy.json").write_text(POLICY_JSON, encoding="utf-8")
        # A fresh parser cache, so that the first run below really is the first.
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp, "cache"))
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        print(f"startup bench: {os.cpu_count()} cores, {args.repeat} runs each, median seconds")
        floor = timings([python, "-c", "pass"], json_dir, args.repeat)
        first = timings([python, "-m", "policyeval", "check", "app.pel"], pel_dir, 1)
        pel = timings([python, "-m", "policyeval", "check", "app.pel"], pel_dir, args.repeat)
        js = timings([python, "-m", "policyeval", "check", "policy.json"], json_dir, args.repeat)
        parliament: list[Run] = []
        if not args.no_peers:
            found = peer_commands()
            if isinstance(found, str):
                print(f"PEERS UNAVAILABLE — {found}; printing policyeval's numbers only")
            else:
                command = [str(found[1]), "--file", "policy.json"]
                parliament = timings(command, json_dir, args.repeat, use_pty=True)
        reference = statistics.median(r.wall for r in js) if js else None
        print()
        print("| command | median s | min s | max s | median CPU s | ÷ policyeval check (JSON) |")
        print("|---|---:|---:|---:|---:|---:|")
        show("python -c pass (floor)", floor, reference)
        show("policyeval check app.pel, first run (fills the parser cache)", first, reference)
        show("policyeval check app.pel", pel, reference)
        show("policyeval check policy.json", js, reference)
        if parliament:
            show("parliament --file policy.json", parliament, reference)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

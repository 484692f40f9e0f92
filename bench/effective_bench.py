"""Effective permissions of one workload whose role attaches twenty policies, one of them
granting `*` (the whole action catalog, ~22,000 actions). Target: under 100 ms per run with
the catalog already loaded.

Run: `python -m bench.effective_bench` from the repository root.
"""

from __future__ import annotations

import statistics
import time

from policyeval import catalog
from policyeval.model.policy import Condition, Effect, Policy, Statement
from policyeval.model.topology import (
    Capacity,
    Container,
    EcsCluster,
    InstanceProfile,
    LaunchType,
    ManagedPolicy,
    PolicyAttachment,
    Ref,
    Role,
    Task,
)
from policyeval.model.workspace import Workspace
from policyeval.resolver.effective import effective_permissions

ACCOUNT = "111122223333"
SERVICES = ["s3", "ec2", "ecs", "iam", "sqs", "sns", "dynamodb", "kms", "logs", "lambda"]


def _policies() -> tuple[ManagedPolicy, ...]:
    documents: list[Policy] = [
        Policy(
            name="admin",
            statements=(Statement(effect=Effect.ALLOW, action=("*",), resource=("*",)),),
        )
    ]
    for index in range(19):
        service = SERVICES[index % len(SERVICES)]
        statements = [
            Statement(
                effect=Effect.ALLOW, action=(f"{service}:Get*", f"{service}:List*"), resource=("*",)
            ),
            Statement(
                effect=Effect.ALLOW,
                action=(f"{service}:Put*",),
                resource=(f"arn:aws:{service}:us-east-1:{ACCOUNT}:thing-{index}/*",),
                condition=(Condition("StringEquals", "aws:RequestedRegion", ("us-east-1",)),),
            ),
        ]
        if index % 5 == 0:
            statements.append(
                Statement(effect=Effect.DENY, action=(f"{service}:Delete*",), resource=("*",))
            )
        documents.append(Policy(name=f"p{index}", statements=tuple(statements)))
    return tuple(
        ManagedPolicy(name=doc.name, arn=f"arn:aws:iam::{ACCOUNT}:policy/{doc.name}", document=doc)
        for doc in documents
    )


def workspace() -> Workspace:
    managed = _policies()
    task_role = Role(
        name="big",
        arn=f"arn:aws:iam::{ACCOUNT}:role/big",
        managed=tuple(PolicyAttachment(ref=m.arn) for m in managed),
    )
    return Workspace(
        account=ACCOUNT,
        managed_policies=managed,
        roles=(task_role, Role(name="host", arn=f"arn:aws:iam::{ACCOUNT}:role/host")),
        instance_profiles=(InstanceProfile(name="host", role=Ref("host")),),
        ecs_clusters=(
            EcsCluster(
                id="c",
                name="c",
                capacities=(
                    Capacity(name="pool", launch=LaunchType.EC2, instance_profile=Ref("host")),
                ),
            ),
        ),
        tasks=(
            Task(
                id="web",
                family="web",
                task_role=Ref("big"),
                cluster="c",
                capacity="pool",
                containers=(Container(name="app"),),
            ),
        ),
    )


def main(runs: int = 15) -> None:
    ws = workspace()
    start = time.perf_counter()
    catalog.expand("*")
    print(f"catalog load (once): {(time.perf_counter() - start) * 1000:.0f} ms")
    timings = []
    grants = 0
    for _ in range(runs):
        start = time.perf_counter()
        report = effective_permissions(ws, "web")
        timings.append(time.perf_counter() - start)
        grants = len(report.workloads[0].allowed)
    print(
        f"effective_permissions, 1 workload, 20 policies, whole catalog: "
        f"median {statistics.median(timings) * 1000:.1f} ms, min {min(timings) * 1000:.1f} ms "
        f"over {runs} runs ({grants} grants)"
    )
    # The same with new policy objects each run (built outside the timing): nothing learnt
    # about the previous run's policies can be reused, only what the catalog alone decides.
    timings = []
    for _ in range(runs):
        fresh = workspace()
        start = time.perf_counter()
        report = effective_permissions(fresh, "web")
        timings.append(time.perf_counter() - start)
        grants = len(report.workloads[0].allowed)
    print(
        f"  the same, new workspace each run: "
        f"median {statistics.median(timings) * 1000:.1f} ms, min {min(timings) * 1000:.1f} ms "
        f"over {runs} runs ({grants} grants)"
    )


if __name__ == "__main__":
    main()

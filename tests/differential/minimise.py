"""Shrink a case on which policyeval and the simulator disagree to a minimal one.

    python -m tests.differential.minimise < disagreeing-case.json

Greedy delta debugging: drop policies, statements, list entries, condition operators and
keys, and context keys, one at a time, keeping each removal after which the two engines
still disagree in the same way. Prints the minimal case and both answers.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterator
from typing import Any

from tests.differential.deciders import (
    Case,
    PolicyevalDecider,
    SimulatorDecider,
    comparable,
)

POLICY_FIELDS = ("identityPolicies", "permissionBoundaries", "scps", "rcps")


def _policies(case: Case) -> Iterator[dict[str, Any]]:
    for field in POLICY_FIELDS:
        for item in case.get(field) or []:
            for policy in item if isinstance(item, list) else [item]:
                if isinstance(policy, dict):
                    yield policy
    for field in ("resourcePolicy", "sessionPolicy"):
        if isinstance(case.get(field), dict):
            yield case[field]


def _candidates(case: Case) -> Iterator[Case]:
    """Every case one removal smaller than `case`."""
    for field in (*POLICY_FIELDS, "resourcePolicy", "sessionPolicy"):
        value = case.get(field)
        if isinstance(value, list):
            for i in range(len(value)):
                smaller = copy.deepcopy(case)
                del smaller[field][i]
                yield smaller
                if isinstance(value[i], list):
                    for j in range(len(value[i])):
                        smaller = copy.deepcopy(case)
                        del smaller[field][i][j]
                        yield smaller
        elif value is not None:
            smaller = copy.deepcopy(case)
            del smaller[field]
            yield smaller
    for p_index, policy in enumerate(_policies(case)):
        statements = policy.get("Statement")
        if not isinstance(statements, list):
            continue
        for s_index, statement in enumerate(statements):
            if len(statements) > 1:
                yield _without(case, p_index, ("Statement", s_index))
            for key, value in statement.items():
                if isinstance(value, list) and len(value) > 1:
                    for v in range(len(value)):
                        yield _without(case, p_index, ("Statement", s_index, key, v))
            for op, block in (statement.get("Condition") or {}).items():
                yield _without(case, p_index, ("Statement", s_index, "Condition", op))
                for ckey in block:
                    yield _without(case, p_index, ("Statement", s_index, "Condition", op, ckey))
    for key in case.get("context") or {}:
        smaller = copy.deepcopy(case)
        del smaller["context"][key]
        yield smaller


def _without(case: Case, policy_index: int, path: tuple[str | int, ...]) -> Case:
    """A copy of `case` without the item at `path` inside its `policy_index`-th policy."""
    smaller = copy.deepcopy(case)
    node: Any = list(_policies(smaller))[policy_index]
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return smaller


def minimise(case: Case, simulator: SimulatorDecider) -> tuple[Case, str | None, str | None]:
    ours = PolicyevalDecider()

    def answers(c: Case) -> tuple[str | None, str | None] | None:
        sim = simulator.decide_many([c])[0]
        if not comparable(sim):
            return None
        return ours.decide_many([c])[0].get("decision"), sim["decision"]

    target = answers(case)
    if target is None or target[0] == target[1]:
        raise SystemExit("the two engines agree on this case (or the simulator cannot answer it)")
    shrinking = True
    while shrinking:
        shrinking = False
        for smaller in _candidates(case):
            if answers(smaller) == target:
                case, shrinking = smaller, True
                break
    return case, target[0], target[1]


def main() -> None:
    case = json.load(sys.stdin)
    with SimulatorDecider() as simulator:
        small, ours, theirs = minimise(case, simulator)
    print(json.dumps(small, indent=2))
    print(f"policyeval: {ours}   simulator: {theirs}")


if __name__ == "__main__":
    main()

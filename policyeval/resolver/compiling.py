"""Compile each distinct policy document once per run.

An estate attaches the same managed policies (AWS-managed, customer-managed, boundaries,
SCPs) to hundreds of roles; compiling every role's policy set from scratch compiled those
documents again for each role. A compiled policy depends only on its document and its
gate (its memos are keyed by action or resource alone; request-dependent parts are
evaluated per request), so one compiled copy serves every policy set that holds it.
"""

from __future__ import annotations

from policyeval.compiler.compiled import CompiledPolicy, CompiledPolicySet, PolicySet
from policyeval.compiler.gates import Gate
from policyeval.model.policy import Policy


class PolicyCompiler:
    """`compile_policies` with every policy object compiled at most once per gate."""

    def __init__(self) -> None:
        # INVARIANT: each entry keeps its policy alive, so its id() is not reused meanwhile.
        self._policies: dict[tuple[int, Gate], tuple[Policy, CompiledPolicy]] = {}

    def policy(self, policy: Policy, gate: Gate) -> CompiledPolicy:
        key = (id(policy), gate)
        found = self._policies.get(key)
        if found is None or found[0] is not policy:
            found = (policy, CompiledPolicy(policy, gate))
            self._policies[key] = found
        return found[1]

    def policy_set(self, policies: PolicySet) -> CompiledPolicySet:
        """The same compiled set as `compile_policies(policies)`, sharing compiled policies."""

        def one(policy: Policy | None, gate: Gate) -> CompiledPolicy | None:
            return self.policy(policy, gate) if policy is not None else None

        return CompiledPolicySet(
            identity=tuple(self.policy(p, Gate.IDENTITY) for p in policies.identity),
            boundary=one(policies.boundary, Gate.BOUNDARY),
            session=one(policies.session, Gate.SESSION),
            resource=one(policies.resource, Gate.RESOURCE),
            scps=tuple(tuple(self.policy(p, Gate.SCP) for p in level) for level in policies.scps),
            rcps=tuple(tuple(self.policy(p, Gate.RCP) for p in level) for level in policies.rcps),
        )

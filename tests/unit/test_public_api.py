"""The stable library surface: every exported name resolves, and importing stays light."""

from __future__ import annotations

import subprocess
import sys

import policyeval


def test_every_exported_name_resolves() -> None:
    for name in policyeval.__all__:
        assert getattr(policyeval, name) is not None


def test_importing_the_package_does_not_load_the_engine() -> None:
    """The pre-commit hook's start-up depends on this (lazy module attributes)."""
    code = "import sys, policyeval; print('policyeval.evaluator.engine' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_library_round_trip_from_pel_text_to_decision() -> None:
    workspace = policyeval.parse_pel(
        'policy p {\n  allow s3:GetObject on "arn:aws:s3:::b/*"\n}\n', "inline.pel"
    )
    (policy,) = workspace.policies
    decision = policyeval.evaluate(
        policyeval.PolicySet(identity=(policy,)),
        principal="arn:aws:iam::111122223333:role/r",
        action="s3:GetObject",
        resource="arn:aws:s3:::b/k",
    )
    assert decision.outcome is policyeval.Outcome.ALLOWED

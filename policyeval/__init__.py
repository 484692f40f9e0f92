"""policyeval: evaluate AWS IAM policies as AWS does, and tell what each workload can do.

The names below are the stable library surface; everything else may change.
"""

from policyeval.api import compile_policies as compile_policies
from policyeval.api import evaluate as evaluate
from policyeval.compiler.compiled import CompiledPolicySet as CompiledPolicySet
from policyeval.compiler.compiled import PolicySet as PolicySet
from policyeval.errors import Diagnostic as Diagnostic
from policyeval.errors import PolicyevalError as PolicyevalError
from policyeval.errors import Severity as Severity
from policyeval.errors import Span as Span
from policyeval.evaluator.decision import Decision as Decision
from policyeval.evaluator.decision import Gate as Gate
from policyeval.evaluator.decision import Outcome as Outcome
from policyeval.evaluator.request import Request as Request
from policyeval.model.policy import Policy as Policy

__all__ = [
    "CompiledPolicySet",
    "Decision",
    "Diagnostic",
    "Gate",
    "Outcome",
    "Policy",
    "PolicySet",
    "PolicyevalError",
    "Request",
    "Severity",
    "Span",
    "compile_policies",
    "evaluate",
]

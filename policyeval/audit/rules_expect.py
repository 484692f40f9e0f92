"""PE4xx: expectations written in `.pel` (`expect { … }`), and stale suppressions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policyeval.audit.engine import AuditContext
from policyeval.audit.registry import Finding, rule
from policyeval.audit.rules_workload import _kind
from policyeval.errors import Severity
from policyeval.model.expect import Expectation

PEL_DOCS = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"
)


def subject_workloads(ctx: AuditContext, exp: Expectation) -> list[Any]:
    """The workloads an expectation speaks about: by kind, and by name when given."""
    out = []
    tasks = {t.id: t for t in ctx.workspace.tasks}
    for w in ctx.workloads:
        kind = str(w.kind)
        if exp.subject_kind not in ("workload", kind):
            continue
        if exp.subject_name is None:
            out.append(w)
            continue
        wid = str(w.id)
        names = {wid, wid.rsplit("/", 1)[-1], wid.split(":", 1)[-1]}
        task = tasks.get(wid)
        if task is not None:
            names.add(task.family)
        if exp.subject_name in names:
            out.append(w)
    return out


def _describe(exp: Expectation) -> str:
    who = f"{exp.subject_kind} {exp.subject_name}" if exp.subject_name else f"no {exp.subject_kind}"
    verb = "can" if exp.can else "cannot"
    if exp.subject_name is None and not exp.can:
        return f"{who} can {exp.action} on {exp.resource}"
    if exp.subject_name is None:
        return f"every {exp.subject_kind} can {exp.action} on {exp.resource}"
    return f"{who} {verb} {exp.action} on {exp.resource}"


def _outcomes(
    ctx: AuditContext, w: Any, exp: Expectation
) -> list[tuple[str, str, tuple[str, ...]]]:
    """(outcome, source text, deciding keys) for each reachable credential of `w`."""
    out = []
    for source in w.credentials:
        if source.reachable is False or source.resolved is None:
            continue
        if _kind(source) == "execution-role" and str(w.kind) != "agent":
            continue
        role = source.resolved
        label = f"{_kind(source)} `{source.role}`"
        if exp.resource == "*" and not exp.can:
            # "cannot X on *": any resource counts, so look at every grant of the action.
            for g in ctx.grants(role):
                if g.action.lower() == exp.action.lower() or _pattern_covers(exp.action, g.action):
                    out.append(("conditional" if g.conditional else "allowed", label, g.keys))
                    break
            continue
        resource = ctx.probe(exp.action) if exp.resource == "*" else exp.resource
        decision = ctx.decide(role, exp.action, resource)
        out.append((decision.outcome.value, label, tuple(decision.deciding_keys)))
    return out


def _pattern_covers(pattern: str, action: str) -> bool:
    from policyeval.audit.engine import action_matches

    return action_matches(pattern, action)


@rule(
    code="PE401",
    name="expectation-failed",
    severity=Severity.HIGH,
    references=(PEL_DOCS,),
)
def expectation_failed(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    An `expect` assertion of a `.pel` file that does not hold: a workload that can do
    what it must not, or cannot do what it must. Every credential the workload reaches
    counts, host credentials included. Both forms ask what is possible: a grant that
    depends on context the audit cannot know (a region, a tag) fails a `cannot` (the
    message names the keys) and satisfies a `can`.

    Why it matters:
    Expectations are the gate of the pre-commit hook and of deployment pipelines: they
    state what must stay true whatever the policies say tomorrow.

    Example:
    expect {
      no container can iam:PassRole on *
      task worker cannot s3:DeleteObject on "arn:aws:s3:::shop-assets/*"
    }

    Fix:
    Change the policies or the topology until the expectation holds, or correct the
    expectation if it no longer describes what you want.
    """
    for exp in ctx.workspace.expectations:
        targets = subject_workloads(ctx, exp)
        if not targets:
            if exp.subject_name is not None:
                yield Finding(
                    code="PE401",
                    severity=Severity.MEDIUM,
                    message=f"expectation `{_describe(exp)}` names no known {exp.subject_kind}",
                    span=exp.span,
                    help="check the name against `policyeval effective`",
                    key=f"{_describe(exp)}:missing",
                )
            continue
        for w in targets:
            outcomes = _outcomes(ctx, w, exp)
            if exp.can:
                # `can` asks whether it is possible: a grant that depends on context the
                # audit cannot know (a region, a tag) still satisfies it.
                if any(o in ("allowed", "conditional") for o, _, _ in outcomes):
                    continue
                detail = "no credential it reaches allows it"
            else:
                hits = [(o, s, k) for o, s, k in outcomes if o in ("allowed", "conditional")]
                if not hits:
                    continue
                outcome, label, keys = hits[0]
                detail = f"{label} allows it" + (
                    f" when {', '.join(keys)} match" if outcome == "conditional" and keys else ""
                )
            yield Finding(
                code="PE401",
                severity=Severity.HIGH,
                message=f"expectation failed for {w.kind} `{w.id}`: `{_describe(exp)}`: {detail}",
                workload=str(w.id),
                span=exp.span,
                help="change the policies or the expectation",
                notes=(f"the workload is defined at {w.span}",) if w.span else (),
                key=f"{_describe(exp)}",
            )


@rule(
    code="PE490",
    name="unused-suppression",
    severity=Severity.MEDIUM,
    references=("https://docs.astral.sh/ruff/rules/unused-noqa/",),
)
def unused_suppression(ctx: AuditContext) -> Iterator[Finding]:
    """
    What it finds:
    A suppression (inline in `.pel` or in a baseline file) that matches no finding of
    a rule that ran. The audit engine reports these after applying suppressions; this
    entry documents them.

    Why it matters:
    A stale suppression hides the next real finding of that code for that workload.
    Suppressions must stay explicit and current.

    Example:
    task web { task-role web; suppress PE201 "IMDS blocked by iptables in user data" }

    Fix:
    Remove the suppression, or correct its code or workload.
    """
    return iter(())


RULES = (expectation_failed, unused_suppression)

"""What `policyeval eval` does: read policy files per gate, decide, print the explanation.

Kept out of `cli.py` so the CLI module stays a thin layer of options.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

from policyeval.batch import decision_json, run_lines
from policyeval.compiler.compiled import PolicySet, compile_policies
from policyeval.errors import Diagnostic, Severity, SourceText, render_plain, sorted_diagnostics
from policyeval.evaluator.engine import evaluate
from policyeval.evaluator.request import Request
from policyeval.model.policy import Policy
from policyeval.readers.iam_json import load_policy_text

EXIT_OK = 0
EXIT_ERROR = 2


def run_cases(source: str) -> int:
    """Stream cases to answers; a bad case is an error line, never the end of the run."""
    try:
        stream = sys.stdin if source == "-" else open(source, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        sys.stderr.write(f"{source}: PE040 error: cannot read file: {exc.strerror}\n")
        return EXIT_ERROR
    # A batch keeps its compiled policies for the whole run: the cyclic collector would
    # walk them again and again while they hold no cycles to free (reference counting
    # frees the rest).
    gc.disable()
    try:
        with stream:
            out = sys.stdout
            for answer in run_lines(stream):
                out.write(answer + "\n")
    finally:
        # Freeze what the run made before the collector is back: the next collection (the
        # one enabling it triggers, and the one at exit) would otherwise walk every cached
        # object once more, which took longer than a quarter of a 20,000-case run.
        gc.freeze()
        gc.enable()
    return EXIT_OK


def _load(path: Path, sources: SourceText, problems: list[Diagnostic]) -> Policy | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Diagnostic("PE040", Severity.ERROR, f"cannot read file: {exc}", None))
        return None
    sources.add(str(path), text)
    policy, diagnostics = load_policy_text(text, str(path))
    problems.extend(diagnostics)
    return policy


def run_one(
    *,
    principal: str | None,
    action: str | None,
    resource: str | None,
    context: list[str],
    identity: list[Path],
    boundary: Path | None,
    session: Path | None,
    resource_policy: Path | None,
    scps: list[Path],
    rcps: list[Path],
    resource_account: str | None,
    as_json: bool,
) -> int:
    problems: list[Diagnostic] = []
    if not principal or not action or not resource:
        sys.stderr.write(
            "policyeval eval: error: --principal, --action and --resource are required"
            " (or use --cases)\n"
        )
        return EXIT_ERROR
    values: dict[str, list[str]] = {}
    for item in context:
        key, sep, value = item.partition("=")
        if not sep or not key:
            sys.stderr.write(f"policyeval eval: error: context `{item}` must be KEY=VALUE\n")
            return EXIT_ERROR
        values.setdefault(key, []).append(value)
    sources = SourceText()
    loaded = [_load(p, sources, problems) for p in identity]
    one = {
        name: (_load(p, sources, problems) if p else None)
        for name, p in (("boundary", boundary), ("session", session), ("resource", resource_policy))
    }
    scp_levels = [_load(p, sources, problems) for p in scps]
    rcp_levels = [_load(p, sources, problems) for p in rcps]
    if problems:
        for diagnostic in sorted_diagnostics(problems):
            sys.stderr.write(render_plain(diagnostic, sources) + "\n")
        return EXIT_ERROR
    from policyeval.batch import RCP_FULL_ACCESS

    policies = PolicySet(
        identity=tuple(p for p in loaded if p is not None),
        boundary=one["boundary"],
        session=one["session"],
        resource=one["resource"],
        scps=tuple((p,) for p in scp_levels if p is not None),
        rcps=tuple((p, RCP_FULL_ACCESS) for p in rcp_levels if p is not None),
    )
    request = Request(
        principal, action, resource, {k: tuple(v) for k, v in values.items()}, resource_account
    )
    decision = evaluate(compile_policies(policies), request)
    if as_json:
        sys.stdout.write(json.dumps(decision_json(decision), indent=2) + "\n")
        return EXIT_OK
    from rich.console import Console
    from rich.markup import escape as escape_markup

    from policyeval.errors import printable

    def escape(text: str) -> str:
        return escape_markup(printable(text))

    console = Console(highlight=False)
    word = decision.outcome.batch_word or decision.outcome.value
    colour = "green" if decision.allowed else "red"
    console.print(f"[bold {colour}]{escape(word)}[/] — {escape(decision.reason)}")
    if decision.decided_by is not None:
        console.print(f"decided by: {escape(decision.decided_by.value)} policies")
    for ref in decision.matched:
        console.print(f"  • {escape(ref.label())}")
    if decision.deciding_keys:
        console.print(f"deciding keys: {escape(', '.join(decision.deciding_keys))}")
    return EXIT_OK

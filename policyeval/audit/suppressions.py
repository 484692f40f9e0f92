"""Explicit suppressions: inline in `.pel` or from a baseline file; stale ones are findings.

A suppression names a rule code, a reason and optionally the workload (or role, policy,
repository) it applies to. A baseline file lists the fingerprints of accepted findings so
that an existing estate can adopt the gate without fixing everything first. A suppression
that matches nothing is reported as PE490 (ruff's RUF100), so none outlives its reason
unnoticed.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from policyeval.audit.registry import Finding
from policyeval.errors import Diagnostic, Severity, Span
from policyeval.model.expect import Suppression

if TYPE_CHECKING:
    from policyeval.audit.engine import Suppressed

UNUSED_CODE = "PE490"
BASELINE_VERSION = 1
#: A baseline suppression stores the finding's fingerprint in `reason` after this prefix.
_FP = "fingerprint:"


def matches(suppression: Suppression, finding: Finding) -> bool:
    """Same code, and the same workload or subject when the suppression names one."""
    if suppression.code.upper() != finding.code:
        return False
    if suppression.reason.startswith(_FP):
        return finding.fingerprint() == suppression.reason.split(" ", 1)[0][len(_FP) :]
    if suppression.workload is None:
        return True
    return suppression.workload in (finding.workload, finding.subject)


def apply_suppressions(
    findings: Iterable[Finding],
    inline: Sequence[Suppression],
    baseline: Sequence[Suppression] = (),
    *,
    active_codes: set[str] | None = None,
) -> tuple[list[Finding], list[Suppressed], list[Finding]]:
    """Split findings into kept and suppressed; return PE490 findings for unused ones.

    A suppression of a rule that did not run (filtered out by `--select`) is not stale.
    """
    from policyeval.audit.engine import Suppressed

    every = [*inline, *baseline]
    used = [False] * len(every)
    kept: list[Finding] = []
    suppressed: list[Suppressed] = []
    for finding in findings:
        hit = next((i for i, s in enumerate(every) if matches(s, finding)), None)
        if hit is None:
            kept.append(finding)
        else:
            used[hit] = True
            suppressed.append(Suppressed(finding, every[hit]))
    stale: list[Finding] = []
    for i, s in enumerate(every):
        if used[i] or (active_codes is not None and s.code.upper() not in active_codes):
            continue
        where = f" for `{s.workload}`" if s.workload else ""
        stale.append(
            Finding(
                code=UNUSED_CODE,
                severity=Severity.MEDIUM,
                message=f"suppression of `{s.code}`{where} matches no finding",
                workload=None,
                span=s.span,
                subject=s.workload,
                help="remove the suppression, or fix its code or workload",
                key=f"{s.code}:{s.workload or ''}:{s.reason}",
            )
        )
    return kept, suppressed, stale


# -- baseline files ----------------------------------------------------------------------


def baseline_document(findings: Iterable[Finding]) -> dict[str, object]:
    """The baseline file's JSON content for the given findings (sorted, stable)."""
    entries = sorted(
        (
            {
                "code": f.code,
                "workload": f.workload,
                "subject": f.subject,
                "key": f.key,
                "fingerprint": f.fingerprint(),
                "message": f.message,
            }
            for f in findings
            if f.code != UNUSED_CODE
        ),
        key=lambda e: (str(e["code"]), str(e["workload"]), str(e["subject"]), str(e["key"])),
    )
    return {"schema_version": BASELINE_VERSION, "tool": "policyeval", "suppressions": entries}


def write_baseline(path: str | os.PathLike[str], findings: Iterable[Finding]) -> None:
    """Write the baseline atomically: a temporary file in the same folder, then rename."""
    target = Path(path)
    text = json.dumps(baseline_document(findings), indent=2, ensure_ascii=False) + "\n"
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_baseline(path: str | os.PathLike[str]) -> tuple[tuple[Suppression, ...], list[Diagnostic]]:
    """Suppressions from a baseline file; a malformed file is a diagnostic, not a crash."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        return (), [_bad(name, f"cannot read baseline `{name}`: {exc.strerror or exc}")]
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        span = Span(name, exc.lineno, exc.colno)
        return (), [_bad(name, f"baseline is not valid JSON: {exc.msg.lower()}", span)]
    if not isinstance(doc, dict) or not isinstance(doc.get("suppressions"), list):
        return (), [_bad(name, "baseline has no `suppressions` list")]
    out: list[Suppression] = []
    problems: list[Diagnostic] = []
    for index, entry in enumerate(doc["suppressions"]):
        code = entry.get("code") if isinstance(entry, dict) else None
        fp = entry.get("fingerprint") if isinstance(entry, dict) else None
        if not isinstance(code, str) or not isinstance(fp, str):
            problems.append(_bad(name, f"baseline entry {index} lacks `code` or `fingerprint`"))
            continue
        workload = entry.get("workload") or entry.get("subject")
        out.append(
            Suppression(
                code=code,
                reason=f"{_FP}{fp} baseline `{name}`",
                workload=workload if isinstance(workload, str) else None,
                span=Span(name, 1, 1),
            )
        )
    return tuple(out), problems


def _bad(path: str, message: str, span: Span | None = None) -> Diagnostic:
    return Diagnostic("PE089", Severity.ERROR, message, span or Span(path, 1, 1))

"""Rule fixtures: `tests/rules/fixtures/PE123*.pel`, each line that must carry a finding of
that rule ends with `# expect: PE123 [severity]`; every other line must carry none. Decoys
(conditions, Denies, boundaries, IMDS blocks) sit in the same files without markers.
Each rule's AWS reference is in its page (`policyeval rule PE123`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policyeval.audit.engine import AuditOptions, run_audit
from policyeval.audit.registry import get_rule
from policyeval.pel import load_pel

FIXTURES = Path(__file__).parent / "fixtures"
MARKER = re.compile(r"#\s*expect:\s*(.+)$")


def expected(path: Path) -> set[tuple[int, str, str | None]]:
    out: set[tuple[int, str, str | None]] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        found = MARKER.search(line)
        if not found:
            continue
        words = found.group(1).split()
        for i, word in enumerate(words):
            if re.fullmatch(r"PE\d{3}", word):
                nxt = words[i + 1] if i + 1 < len(words) else None
                severity = nxt if nxt and not nxt.startswith("PE") else None
                out.add((number, word, severity))
    return out


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("PE*.pel")), ids=lambda p: p.stem)
def test_fixture_findings_match_the_markers(path: Path) -> None:
    code = path.stem[:5]
    rule = get_rule(code)
    assert rule is not None, f"no rule {code}"
    workspace = load_pel(path)
    assert workspace.diagnostics == (), workspace.diagnostics
    # PE490 (stale suppressions) needs every rule to have run.
    result = run_audit(workspace, AuditOptions(), rules=None if code == "PE490" else [rule])
    assert result.notes == () or not any("skipped" in n for n in result.notes), result.notes
    markers = expected(path)
    want_severity = {(line, c): s for line, c, s in markers}
    found = {
        (f.span.line, f.code)
        for f in result.findings
        if f.code == code and f.span is not None and f.span.path == str(path)
    }
    elsewhere = [
        f
        for f in result.findings
        if f.code == code and (f.span is None or f.span.path != str(path))
    ]
    assert found == set(want_severity), "\n".join(f"{f.span}: {f.message}" for f in result.findings)
    assert elsewhere == []
    for f in result.findings:
        assert f.span is not None
        severity = want_severity.get((f.span.line, f.code))
        if severity is not None:
            assert f.severity.value == severity, f"{f.span}: {f.message}"

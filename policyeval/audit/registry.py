"""Rules as data: `Finding`, `Rule`, the `@rule` decorator and the one list of rules.

A rule is a function from the resolved audit context to findings, wrapped with its code,
name, severity and references. Nothing registers itself on import: `all_rules()` reads the
explicit `RULES` tuple of each rules module, so the list is what the code says it is.
Each rule's docstring is its documentation page, in fixed sections (`What it finds`,
`Why it matters`, `Example`, `Fix`, `References`); `python -m policyeval.audit.registry`
prints `docs/rules.md` from them.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from policyeval.errors import Diagnostic, Severity, Span

if TYPE_CHECKING:
    from policyeval.audit.engine import AuditContext

#: Section titles of a rule page, in order. `References` is built from the decorator.
SECTIONS = ("What it finds", "Why it matters", "Example", "Fix")

_CODE = re.compile(r"^PE[0-9]{3}$")


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a rule found, at one place.

    `workload` is the workload id (None for findings about a policy or role alone);
    `subject` names what the finding is about when that is not a workload (a role, a
    policy, a repository); `source` is the credential source the access comes through;
    `statements` are the spans of the statements that grant it; `fix` is a suggested
    least-privilege policy document as JSON text; `key` keeps findings of one rule on one
    subject apart (an action, say) so baselines survive edits that move lines.
    """

    code: str
    severity: Severity
    message: str
    workload: str | None = None
    span: Span | None = None
    subject: str | None = None
    source: str | None = None
    statements: tuple[Span, ...] = ()
    fix: str | None = None
    help: str | None = None
    notes: tuple[str, ...] = ()
    key: str = ""

    def fingerprint(self) -> str:
        """A stable identity for baselines: no line numbers, no message wording."""
        raw = "\x1f".join((self.code, self.workload or "", self.subject or "", self.key))
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]

    def to_diagnostic(self) -> Diagnostic:
        notes = self.notes
        if self.statements:
            notes = (
                *notes,
                *(f"see the statement at {s}" for s in self.statements if s != self.span),
            )
        return Diagnostic(self.code, self.severity, self.message, self.span, self.help, notes)

    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        path, line, col = ("", 0, 0) if self.span is None else self.span_key()
        return (path, line, col, self.code, self.workload or "", self.key)

    def span_key(self) -> tuple[str, int, int]:
        assert self.span is not None
        return (self.span.path, self.span.line, self.span.column)


Check = Callable[["AuditContext"], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A registered rule: identity, default severity, references and the check itself."""

    code: str
    name: str
    severity: Severity
    references: tuple[str, ...]
    check: Check = field(compare=False, repr=False)
    doc: str = field(default="", compare=False, repr=False)

    @property
    def summary(self) -> str:
        """The first line of the `What it finds` section."""
        what = self.sections().get("What it finds", "")
        paragraph = " ".join(what.split("\n\n", 1)[0].split())
        end = paragraph.find(". ")
        return paragraph if end < 0 else paragraph[: end + 1]

    def sections(self) -> dict[str, str]:
        """The docstring split into its fixed sections."""
        return parse_sections(self.doc)

    def run(self, context: AuditContext) -> Iterator[Finding]:
        yield from self.check(context)

    def page(self) -> str:
        """The rule's documentation page as Markdown."""
        out = [f"## {self.code} {self.name}", "", f"Severity: **{self.severity.value}**", ""]
        sections = self.sections()
        for title in SECTIONS:
            body = sections.get(title, "").strip()
            out.append(f"### {title}")
            out.append("")
            if title == "Example":
                out += ["```", body, "```"]
            else:
                out.append(body)
            out.append("")
        out.append("### References")
        out.append("")
        out += [f"- <{url}>" for url in self.references]
        out.append("")
        return "\n".join(out)


def parse_sections(doc: str) -> dict[str, str]:
    """Split a rule docstring at lines `Title:` where Title is one of SECTIONS."""
    text = inspect.cleandoc(doc)
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        stripped = line.rstrip()
        if stripped.endswith(":") and stripped[:-1] in SECTIONS:
            current = stripped[:-1]
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return {k: inspect.cleandoc("\n".join(v)) for k, v in sections.items()}


def rule(
    *, code: str, name: str, severity: Severity, references: tuple[str, ...]
) -> Callable[[Check], Rule]:
    """Wrap a check function as a `Rule`; the function's docstring becomes its page."""
    if not _CODE.match(code):
        raise ValueError(f"rule code {code!r} is not of the form PE123")

    def wrap(check: Check) -> Rule:
        doc = check.__doc__ or ""
        missing = [s for s in SECTIONS if s not in parse_sections(doc)]
        if missing:
            raise ValueError(f"rule {code} docstring lacks sections {missing}")
        if not references:
            raise ValueError(f"rule {code} needs at least one reference")
        return Rule(code, name, severity, references, check, doc)

    return wrap


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule, in code order. The one list: each module's explicit `RULES` tuple."""
    from policyeval.audit import rules_expect, rules_policy, rules_topology, rules_workload

    rules = (
        *rules_policy.RULES,
        *rules_workload.RULES,
        *rules_topology.RULES,
        *rules_expect.RULES,
    )
    codes = [r.code for r in rules]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise RuntimeError(f"duplicate rule codes: {duplicates}")
    return tuple(sorted(rules, key=lambda r: r.code))


def get_rule(code: str) -> Rule | None:
    """A rule by code (case-insensitive) or by name."""
    wanted = code.strip()
    for r in all_rules():
        if r.code.lower() == wanted.lower() or r.name == wanted:
            return r
    return None


def rules_markdown() -> str:
    """`docs/rules.md`: an index table then one page per rule."""
    out = [
        "# Audit rules",
        "",
        "<!-- generated by `python -m policyeval.audit.registry`; do not edit -->",
        "",
        "| code | name | severity | what it finds |",
        "|---|---|---|---|",
    ]
    for r in all_rules():
        anchor = f"{r.code}-{r.name}".lower()
        out.append(f"| [{r.code}](#{anchor}) | {r.name} | {r.severity.value} | {r.summary} |")
    out.append("")
    for r in all_rules():
        out.append(r.page())
    return "\n".join(out).rstrip("\n") + "\n"


def _main() -> None:
    import sys

    sys.stdout.write(rules_markdown())


if __name__ == "__main__":
    _main()

"""Source positions, diagnostics and the one exception type.

Every stage reports problems as `Diagnostic` values rather than raising, so that one bad
file never stops the rest of a run. Rendering is shared by all stages so a syntax error, a
reader error and an audit finding look the same to the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file; lines and columns are 1-based (as in Lark and SARIF)."""

    path: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


class Severity(StrEnum):
    """How much a diagnostic matters; `ERROR` is reserved for input and usage problems."""

    ERROR = "error"
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse; used by `--fail-on`."""
        return _RANKS[self]

    @property
    def sarif_level(self) -> str:
        """The one place where severities map to SARIF levels."""
        if self in (Severity.ERROR, Severity.CRITICAL, Severity.HIGH):
            return "error"
        if self is Severity.MEDIUM:
            return "warning"
        return "note"


_RANKS = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
    Severity.ERROR: 5,
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem at one place: a syntax error, an input error or an audit finding."""

    code: str
    severity: Severity
    message: str
    span: Span | None = None
    help: str | None = None
    notes: tuple[str, ...] = ()

    def sort_key(self) -> tuple[str, int, int, str]:
        if self.span is None:
            return ("", 0, 0, self.code)
        return (self.span.path, self.span.line, self.span.column, self.code)


class PolicyevalError(Exception):
    """Raised only for misuse of the library, or when the caller asks with `on_error="raise"`."""

    def __init__(self, diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        super().__init__(render_plain(first) if first else "policyeval error")


@dataclass(slots=True)
class SourceText:
    """The text of every file read in a run, kept so that diagnostics can show the line."""

    texts: dict[str, str] = field(default_factory=dict)
    #: `texts[path].splitlines()` of the paths shown so far, keyed by the text itself so a
    #: replaced or re-added text is split again (big inputs carry many diagnostics).
    _lines: dict[str, tuple[str, list[str]]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def add(self, path: str, text: str) -> None:
        self.texts[path] = text

    def line(self, path: str, line: int) -> str | None:
        text = self.texts.get(path)
        if text is None:
            return None
        cached = self._lines.get(path)
        if cached is None or cached[0] is not text:
            cached = (text, text.splitlines())
            self._lines[path] = cached
        lines = cached[1]
        if 1 <= line <= len(lines):
            return lines[line - 1]
        return None


def render_plain(diagnostic: Diagnostic, sources: SourceText | None = None) -> str:
    """Render a diagnostic as compiler-style text with the offending line and a caret."""
    where = str(diagnostic.span) if diagnostic.span else "<input>"
    message = _printable(diagnostic.message)
    out = [f"{_printable(where)}: {diagnostic.code} {diagnostic.severity.value}: {message}"]
    if diagnostic.span is not None and sources is not None:
        text = sources.line(diagnostic.span.path, diagnostic.span.line)
        if text is not None:
            number = str(diagnostic.span.line)
            pad = " " * len(number)
            caret_col = max(diagnostic.span.column, 1)
            text, caret_col = _window(text, caret_col)
            shown = _printable(text)
            width = 1
            if (
                diagnostic.span.end_line == diagnostic.span.line
                and diagnostic.span.end_column is not None
                and diagnostic.span.end_column > caret_col
            ):
                width = diagnostic.span.end_column - caret_col
            out.append(f"{pad} |")
            out.append(f"{number} | {shown}")
            out.append(f"{pad} | {' ' * (caret_col - 1)}{'^' * min(width, 80)}")
    if diagnostic.help:
        out.append(f"   = help: {_printable(diagnostic.help)}")
    for note in diagnostic.notes:
        out.append(f"   = note: {_printable(note)}")
    return "\n".join(out)


#: Widest source line shown under a diagnostic; longer lines (minified JSON) are cut to a
#: window around the caret so one diagnostic never prints megabytes.
MAX_SHOWN_LINE = 160


def _window(text: str, column: int) -> tuple[str, int]:
    """The part of `text` around 1-based `column`, and the column within that part."""
    if len(text) <= MAX_SHOWN_LINE:
        return text, column
    start = max(0, min(column - 1 - MAX_SHOWN_LINE // 2, len(text) - MAX_SHOWN_LINE))
    piece = text[start : start + MAX_SHOWN_LINE]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + MAX_SHOWN_LINE < len(text) else ""
    return prefix + piece + suffix, column - start + len(prefix)


def printable(text: str) -> str:
    """Input text made safe for a terminal: control characters (ESC, BEL, CR …) become
    U+FFFD, so an ARN or condition value cannot move the cursor or change colours. Rich
    markup is not interpreted by callers that print `rich.text.Text`; this covers the rest.
    Line breaks are kept (table cells wrap on them)."""
    return "\n".join(_printable(line) for line in text.split("\n"))


def _printable(text: str) -> str:
    """Replace control characters so input cannot drive the terminal."""
    return "".join(ch if ch == "\t" or ch.isprintable() else "\ufffd" for ch in text)


def sorted_diagnostics(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> list[Diagnostic]:
    """Diagnostics in path, line, column order, as every output shows them."""
    return sorted(diagnostics, key=Diagnostic.sort_key)

"""Canonical `.pel` layout (`policyeval fmt`) and model → `.pel` text.

`format_pel` rebuilds layout from the full-token tree, so it never loses anything the file
said: tokens are kept verbatim, and only whitespace, `;` and line breaks change. Comments
come from the lexer and are put back by line: a comment on its own line stays before the
item that followed it, a comment after code stays at the end of that line. One blank line
between items is kept where the source had any.

`format_policy` prints a `Policy` model as naive text and then runs `format_pel` over it, so
the model printer and the file formatter cannot disagree on layout.
"""

from __future__ import annotations

import json
import re

from lark import Token, Tree

from policyeval.errors import Diagnostic, PolicyevalError, Severity, Span
from policyeval.model.policy import VERSION_2012, Policy, Principal, Statement
from policyeval.syntax.grammar import pel_layout_parser
from policyeval.syntax.parser import MAX_PEL_BYTES, TOO_LARGE, _parse_with

INDENT = "  "
#: A statement is kept on one line when it fits in this many columns.
LINE_WIDTH = 100


class _Writer:
    def __init__(self, comments: list[Token]) -> None:
        self.lines: list[str] = []
        self.current: list[str] = []
        self.depth = 0
        self.comments = sorted(comments, key=lambda t: (t.line or 0, t.column or 0))
        self.next_comment = 0

    # words and lines ------------------------------------------------------------------------

    def word(self, text: str) -> None:
        if text == "," and self.current:
            self.current[-1] += ","
        else:
            self.current.append(text)

    def newline(self) -> None:
        if self.current:
            self.lines.append(INDENT * self.depth + " ".join(self.current))
            self.current = []

    def blank(self) -> None:
        self.newline()
        if self.lines and self.lines[-1] != "" and not self.lines[-1].endswith("{"):
            self.lines.append("")

    # comments -------------------------------------------------------------------------------

    def comments_before(self, line: int, last_line: int | None) -> int | None:
        """Write own-line comments that come before `line`; returns the last source line used."""
        while self.next_comment < len(self.comments):
            comment = self.comments[self.next_comment]
            if (comment.line or 0) >= line:
                break
            self.newline()
            if last_line is not None and (comment.line or 0) > last_line + 1:
                self.blank()
            self.lines.append(INDENT * self.depth + str(comment).rstrip())
            last_line = comment.end_line or comment.line
            self.next_comment += 1
        return last_line

    def trailing_comment(self, line: int) -> None:
        """A comment on `line` after the code goes at the end of the last written line."""
        if self.next_comment < len(self.comments):
            comment = self.comments[self.next_comment]
            if comment.line == line:
                self.newline()
                if self.lines:
                    self.lines[-1] += "  " + str(comment).rstrip()
                self.next_comment += 1

    def comments_within(self, first: int, last: int) -> bool:
        return any(first <= (c.line or 0) <= last for c in self.comments[self.next_comment :])


def _start_line(node: Tree[Token] | Token) -> int:
    if isinstance(node, Token):
        return node.line or 0
    return node.meta.line if not node.meta.empty else 0


def _end_line(node: Tree[Token] | Token) -> int:
    if isinstance(node, Token):
        return node.end_line or node.line or 0
    return node.meta.end_line if not node.meta.empty else 0


def _flat(node: Tree[Token] | Token) -> list[str]:
    """Every token of a brace-free subtree, in order, without `;`."""
    if isinstance(node, Token):
        return [] if node.type == "_SEP" else [str(node)]
    out: list[str] = []
    for child in node.children:
        if child is not None:
            out.extend(_flat(child))
    return out


def _join(words: list[str]) -> str:
    out: list[str] = []
    for word in words:
        if word == "," and out:
            out[-1] += ","
        else:
            out.append(word)
    return " ".join(out)


def _emit(node: Tree[Token] | Token, writer: _Writer) -> None:
    """Write one node; blocks put each item on its own line, one level deeper."""
    if isinstance(node, Token):
        if node.type != "_SEP":
            writer.word(str(node))
        return
    if node.data == "statement":
        _emit_statement(node, writer)
        return
    children = [c for c in node.children if c is not None]
    brace = next(
        (i for i, c in enumerate(children) if isinstance(c, Token) and c.type == "LBRACE"), None
    )
    if brace is None:
        for child in children:
            _emit(child, writer)
        return
    for child in children[:brace]:
        _emit(child, writer)
    close = children[-1]
    items = [c for c in children[brace + 1 : -1] if isinstance(c, Tree)]
    inner_comments = writer.comments_within(_start_line(children[brace]), _end_line(close) - 1)
    if not items and not inner_comments:
        writer.word("{}")
        return
    writer.word("{")
    writer.newline()
    writer.trailing_comment(_start_line(children[brace]))
    writer.depth += 1
    _emit_items(items, writer, _start_line(children[brace]))
    writer.comments_before(_start_line(close), None)
    writer.newline()
    writer.depth -= 1
    writer.word("}")


def _emit_items(items: list[Tree[Token]], writer: _Writer, opened_at: int | None) -> None:
    last: int | None = None
    for item in items:
        start = _start_line(item)
        last = writer.comments_before(start, last)
        writer.newline()
        if last is not None and start > last + 1:
            writer.blank()
        _emit(item, writer)
        end = _end_line(item)
        writer.trailing_comment(end)
        writer.newline()
        last = end


def _emit_statement(node: Tree[Token], writer: _Writer) -> None:
    children = [c for c in node.children if c is not None]
    head = [c for c in children if isinstance(c, Tree) and c.data in _HEAD_RULES] or children[:1]
    clauses = [c for c in children if c not in head]
    head_words = [w for c in head for w in _flat(c)]
    one_line = _join(head_words + [w for c in clauses for w in _flat(c)])
    inner_comments = writer.comments_within(_start_line(node), _end_line(node) - 1)
    if not inner_comments and len(INDENT * writer.depth) + len(one_line) <= LINE_WIDTH:
        writer.word(one_line)
        return
    writer.word(_join(head_words))
    writer.newline()
    writer.depth += 1
    for clause in clauses:
        writer.comments_before(_start_line(clause), None)
        writer.newline()
        writer.word(_join(_flat(clause)))
        if clause is not clauses[-1]:
            writer.trailing_comment(_end_line(clause))
    writer.newline()
    writer.depth -= 1


_HEAD_RULES = {"allow", "deny", "actions", "not_actions"}


def format_tree(tree: Tree[Token], comments: list[Token]) -> str:
    writer = _Writer(comments)
    items = [c for c in tree.children if isinstance(c, Tree)]
    _emit_items(items, writer, None)
    writer.comments_before(10**12, None if not items else _end_line(items[-1]))
    writer.newline()
    while writer.lines and writer.lines[-1] == "":
        writer.lines.pop()
    return "\n".join(writer.lines) + "\n" if writer.lines else ""


def format_pel_checked(text: str, path: str) -> tuple[str | None, list[Diagnostic]]:
    """The canonical text, or None and the syntax Diagnostics."""
    if len(text) > MAX_PEL_BYTES:
        message = f"file is larger than {MAX_PEL_BYTES // (1024 * 1024)} MiB"
        return None, [Diagnostic(TOO_LARGE, Severity.ERROR, message, Span(path, 1, 1))]
    parser, sink = pel_layout_parser()
    tree, comments, diagnostics = _parse_with(parser, sink, text, path)
    if tree is None:
        return None, diagnostics
    return format_tree(tree, comments), []


def format_pel(text: str, path: str = "<input>") -> str:
    """Canonical layout of a `.pel` text; raises `PolicyevalError` if it does not parse."""
    formatted, diagnostics = format_pel_checked(text, path)
    if formatted is None:
        raise PolicyevalError(diagnostics)
    return formatted


# -- model → text ---------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z0-9_*?$][A-Za-z0-9_.*?:/@+$-]*")
_BARE_VALUE = re.compile(r"true|false|[0-9]+")
_PRINCIPAL_WORDS = {"AWS": "aws", "Service": "service", "Federated": "federated"}
_PRINCIPAL_WORDS["CanonicalUser"] = "canonical-user"


def quote(text: str) -> str:
    """A `.pel` string literal: JSON escapes, non-ASCII kept as is."""
    return json.dumps(text, ensure_ascii=False)


def _name(text: str) -> str:
    return text if _WORD.fullmatch(text) else quote(text)


def _action(text: str) -> str:
    return text if _WORD.fullmatch(text) and (":" in text or text == "*") else quote(text)


def _key(text: str) -> str:
    return text if _WORD.fullmatch(text) and ":" in text else quote(text)


def _value(text: str) -> str:
    return text if _BARE_VALUE.fullmatch(text) else quote(text)


def _resource(text: str) -> str:
    return "*" if text == "*" else quote(text)


def _principal(principal: Principal) -> str:
    if principal.kind == "*":
        return "*"
    kind = _PRINCIPAL_WORDS.get(principal.kind)
    if kind is None:
        raise ValueError(f"principal kind {principal.kind!r} has no .pel spelling")
    return f"{kind} {quote(principal.value)}"


def statement_text(statement: Statement) -> str:
    words = [statement.effect.value.lower()]
    if statement.action is not None:
        words.append(", ".join(_action(a) for a in statement.action))
    elif statement.not_action is not None:
        words.append("all except " + ", ".join(_action(a) for a in statement.not_action))
    else:
        raise ValueError("a statement needs Action or NotAction")
    if statement.sid is not None:
        words.append(f"sid {quote(statement.sid)}")
    if statement.principal is not None:
        words.append("principal " + ", ".join(_principal(p) for p in statement.principal))
    if statement.not_principal is not None:
        entries = ", ".join(_principal(p) for p in statement.not_principal)
        words.append("principal all except " + entries)
    if statement.resource is not None:
        words.append("on " + ", ".join(_resource(r) for r in statement.resource))
    if statement.not_resource is not None:
        words.append("on all except " + ", ".join(_resource(r) for r in statement.not_resource))
    for condition in statement.condition:
        values = ", ".join(_value(v) for v in condition.values)
        words.append(f"if {_name(condition.operator)} {_key(condition.key)} = {values}")
    return " ".join(words)


def policy_body_text(policy: Policy) -> list[str]:
    lines = []
    if policy.version != VERSION_2012:
        lines.append(
            "version none" if policy.version is None else f"version {quote(policy.version)}"
        )
    if policy.id is not None:
        lines.append(f"id {quote(policy.id)}")
    lines.extend(statement_text(s) for s in policy.statements)
    return lines


def format_policy(policy: Policy) -> str:
    """`policy NAME { ... }` in canonical layout."""
    body = "\n".join(policy_body_text(policy))
    return format_pel(f"policy {_name(policy.name)} {{\n{body}\n}}\n")

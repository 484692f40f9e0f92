"""IAM `*` / `?` matching without backtracking blow-ups.

A pattern is split at each `*` into pieces; the first piece anchors the start, the last
the end, and every middle piece is found at its leftmost position (greedy leftmost is
correct for `*`, which can absorb anything). Pieces without `?` use `str.find`, which is
linear; pieces with `?` are compared character by character. No regex is built from the
pattern, so hostile patterns such as `*a*a*a*…b` cannot make matching exponential.

Literal `*`, `?` and `$` (written `${*}`, `${?}`, `${$}` in policies) and substituted
variable values are kept as literal text: a pattern is a sequence of tokens, not a string.
IAM User Guide: "IAM JSON policy elements: Action" (case-insensitive wildcards) and
"... Resource" (wildcards within ARN segments, case-sensitive).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: Token stream items: literal text, or one of these two markers.
STAR = object()
QMARK = object()

Token = str | object


class Wildcard:
    """A compiled pattern. `pieces` are the `*`-separated parts; each piece is a tuple of
    chunks where `None` stands for `?`, and strings are literal runs. (A plain slotted
    class: compiling a one-off resource policy makes several, and a frozen dataclass costs
    a `object.__setattr__` call per field. Treat instances as read-only.)"""

    __slots__ = (
        "anchored_end",
        "anchored_start",
        "lengths",
        "literal",
        "min_length",
        "pieces",
        "prefix",
    )

    def __init__(
        self,
        pieces: tuple[tuple[str | None, ...], ...],
        anchored_start: bool,
        anchored_end: bool,
        literal: str | None,  # the whole pattern when it has no wildcard at all
        min_length: int,
        prefix: str | None = None,
        lengths: tuple[int, ...] = (),  # the length of each piece
    ) -> None:
        self.pieces = pieces
        self.anchored_start = anchored_start
        self.anchored_end = anchored_end
        self.literal = literal
        self.min_length = min_length
        #: Set when the pattern is plain text then one trailing `*` (`s3:Get*`, `arn:…/*`),
        #: the commonest shape, which is a prefix test.
        self.prefix = prefix
        self.lengths = lengths

    def matches(self, text: str) -> bool:
        if self.literal is not None:
            return text == self.literal
        if self.prefix is not None:
            return text.startswith(self.prefix)
        if len(text) < self.min_length:
            return False
        pieces = self.pieces
        if len(pieces) == 1:  # `?` but no `*`: the lengths must agree exactly
            return len(text) == self.min_length and _piece_at(pieces[0], text, 0)
        start = 0
        end = len(text)
        first = 0
        last = len(pieces)
        lengths = self.lengths
        if self.anchored_start:
            piece = pieces[0]
            if not _piece_at(piece, text, 0):
                return False
            start = lengths[0]
            first = 1
        if self.anchored_end:
            piece = pieces[-1]
            n = lengths[-1]
            if end - n < start or not _piece_at(piece, text, end - n):
                return False
            end -= n
            last -= 1
        for index in range(first, last):
            found = _find_piece(pieces[index], text, start, end)
            if found < 0:
                return False
            start = found + lengths[index]
        return start <= end


def _piece_len(piece: tuple[str | None, ...]) -> int:
    return sum(1 if chunk is None else len(chunk) for chunk in piece)


def _piece_at(piece: tuple[str | None, ...], text: str, pos: int) -> bool:
    for chunk in piece:
        if chunk is None:
            if pos >= len(text):
                return False
            pos += 1
        else:
            if not text.startswith(chunk, pos):
                return False
            pos += len(chunk)
    return True


def _find_piece(piece: tuple[str | None, ...], text: str, start: int, end: int) -> int:
    """Leftmost position >= start where `piece` fits entirely before `end`, or -1."""
    n = _piece_len(piece)
    if len(piece) == 1 and piece[0] is not None:
        return text.find(piece[0], start, end)
    # Anchor the search on the longest literal chunk to keep it near-linear.
    offset = 0
    best: tuple[int, str] | None = None
    for chunk in piece:
        if chunk is not None and (best is None or len(chunk) > len(best[1])):
            best = (offset, chunk)
        offset += 1 if chunk is None else len(chunk)
    if best is None:  # only `?`s
        return start if end - start >= n else -1
    chunk_offset, chunk = best
    search = start + chunk_offset
    while True:
        hit = text.find(chunk, search, end - (n - chunk_offset - len(chunk)))
        if hit < 0:
            return -1
        candidate = hit - chunk_offset
        if _piece_at(piece, text, candidate):
            return candidate
        search = hit + 1


def compile_tokens(tokens: Sequence[Token], *, fold_case: bool = False) -> Wildcard:
    """Compile a token sequence (literal strings, STAR, QMARK) into a matcher."""
    pieces: list[tuple[str | None, ...]] = []
    current: list[str | None] = []
    text: list[str] = []
    has_wild = False

    def flush_text() -> None:
        if text:
            run = "".join(text)
            current.append(run.lower() if fold_case else run)
            text.clear()

    for token in tokens:
        if token is STAR:
            has_wild = True
            flush_text()
            pieces.append(tuple(current))
            current.clear()
        elif token is QMARK:
            has_wild = True
            flush_text()
            current.append(None)
        else:
            assert isinstance(token, str)
            text.append(token)
    flush_text()
    pieces.append(tuple(current))
    if not has_wild:
        literal = "".join(c for c in pieces[0] if c is not None)
        return Wildcard((), True, True, literal, len(literal))
    # Consecutive `*` are one `*`: empty middle pieces match anywhere and are dropped, so a
    # pattern of 100,000 stars costs one piece per match, not 100,000.
    if len(pieces) > 2:
        pieces = [pieces[0], *(p for p in pieces[1:-1] if p), pieces[-1]]
    min_length = sum(_piece_len(p) for p in pieces)
    prefix: str | None = None
    if len(pieces) == 2 and not pieces[1] and None not in pieces[0]:
        prefix = "".join(c for c in pieces[0] if c is not None)
    lengths = tuple(_piece_len(p) for p in pieces)
    return Wildcard(tuple(pieces), True, True, None, min_length, prefix, lengths)


_WILDCARDS = re.compile(r"([*?])")


def tokenize(pattern: str) -> list[Token]:
    """Plain IAM pattern text → tokens: every `*` and `?` is a wildcard."""
    if "*" not in pattern and "?" not in pattern:
        return [pattern] if pattern else []
    tokens: list[Token] = []
    # Split at each wildcard (kept): literal runs at even positions, wildcards at odd ones.
    for index, piece in enumerate(_WILDCARDS.split(pattern)):
        if index % 2:
            tokens.append(STAR if piece == "*" else QMARK)
        elif piece:
            tokens.append(piece)
    return tokens


def compile_pattern(pattern: str, *, fold_case: bool = False) -> Wildcard:
    """Compile plain pattern text; with `fold_case`, match against lower-cased text.

    The two commonest shapes, plain text and text then one `*`, are built directly (the
    same `Wildcard` that `compile_tokens` builds; a property test compares them)."""
    if "?" not in pattern:
        star = pattern.find("*")
        if star < 0:
            literal = pattern.lower() if fold_case else pattern
            return Wildcard((), True, True, literal, len(literal))
        if star == len(pattern) - 1:
            head = pattern[:star].lower() if fold_case else pattern[:star]
            first = (head,) if head else ()
            return Wildcard((first, ()), True, True, None, len(head), head, (len(head), 0))
    return compile_tokens(tokenize(pattern), fold_case=fold_case)


def wildcard_match(pattern: str, text: str, *, fold_case: bool = False) -> bool:
    """One-off match; callers on a hot path keep the compiled `Wildcard` instead."""
    matcher = compile_pattern(pattern, fold_case=fold_case)
    return matcher.matches(text.lower() if fold_case else text)

"""Locate `pel.lark` and build the one `.pel` parser.

The grammar ships as package data in a wheel (`policyeval/grammars/pel.lark`, see
pyproject's force-include) and lives in `grammars/` in a checkout. Parsers are built once per
process by cached factories; nothing here holds class-level state.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from lark import Lark, Token

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def grammar_path() -> Path:
    """The grammar file: packaged copy first, then the checkout's `grammars/`."""
    packaged = _PACKAGE_ROOT / "grammars" / "pel.lark"
    if packaged.is_file():
        return packaged
    return _PACKAGE_ROOT.parent / "grammars" / "pel.lark"


@functools.cache
def grammar_text() -> str:
    return grammar_path().read_text(encoding="utf-8")


class CommentSink:
    """Collects comment tokens seen by the lexer, per parse.

    Lark calls `lexer_callbacks` with each COMMENT token; the parser is shared, so the sink
    is swapped per call by `parse_with_comments` (parsing is synchronous and single-threaded
    per parser object, which is what the CLI and library do).
    """

    def __init__(self) -> None:
        self.tokens: list[Token] = []

    def __call__(self, token: Token) -> Token:
        self.tokens.append(token)
        return token


def _build(keep_all_tokens: bool, sink: Callable[[Token], Token], cache: bool | str) -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        strict=True,
        propagate_positions=True,
        maybe_placeholders=True,
        keep_all_tokens=keep_all_tokens,
        lexer_callbacks={"COMMENT": sink},
        cache=cache,
    )


@functools.cache
def pel_parser() -> tuple[Lark, CommentSink]:
    """The parser used to build models (punctuation and keywords dropped from the tree)."""
    sink = CommentSink()
    return _build(False, sink, False), sink


@functools.cache
def pel_layout_parser() -> tuple[Lark, CommentSink]:
    """The parser used by the formatter: every token kept, so layout can be rebuilt."""
    sink = CommentSink()
    return _build(True, sink, False), sink


def build_parser_for_benchmark(cache: bool | str) -> Lark:
    """A fresh parser with Lark's `cache=` option, for `bench/parse_bench.py` only."""
    return _build(False, CommentSink(), cache)

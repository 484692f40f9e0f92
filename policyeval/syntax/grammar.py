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
        # Keep `Lark.grammar` on a parser loaded from the cache too (tools such as
        # hypothesis' `from_lark` read it).
        cache_grammar=bool(cache),
    )


@functools.cache
def pel_parser() -> tuple[Lark, CommentSink]:
    """The parser used to build models (punctuation and keywords dropped from the tree)."""
    sink = CommentSink()
    return _build(False, sink, cache_file("model")), sink


@functools.cache
def pel_layout_parser() -> tuple[Lark, CommentSink]:
    """The parser used by the formatter: every token kept, so layout can be rebuilt."""
    sink = CommentSink()
    return _build(True, sink, cache_file("layout")), sink


#: Set to any non-empty value to build the parser from the grammar every time.
NO_CACHE_ENV = "POLICYEVAL_NO_CACHE"


def cache_file(variant: str) -> str | bool:
    """Where Lark keeps the analysed grammar between runs, or False for no cache.

    Building the strict LALR parser (grammar analysis and terminal-collision checks) costs
    most of a cold `policyeval check` on a `.pel` file; Lark's `cache=` stores the result
    and checks the grammar's and options' hash on load. Lark's cache is a pickle, so it is
    only used inside a directory private to the current user (`$XDG_CACHE_HOME/policyeval`
    or `~/.cache/policyeval`, mode 0700, owned by the user); anything else means no cache.
    """
    import hashlib
    import os
    import stat

    import lark

    if os.environ.get(NO_CACHE_ENV) or not hasattr(os, "getuid"):
        return False
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "policyeval")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.stat(folder, follow_symlinks=False)
    except OSError:
        return False
    private = stat.S_ISDIR(info.st_mode) and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if not private or info.st_uid != os.getuid():
        return False
    digest = hashlib.sha256(grammar_text().encode("utf-8")).hexdigest()[:16]
    return os.path.join(folder, f"pel-{variant}-lark{lark.__version__}-{digest}-grammar.cache")


def build_parser_for_benchmark(cache: bool | str) -> Lark:
    """A fresh parser with Lark's `cache=` option, for `bench/parse_bench.py` only."""
    return _build(False, CommentSink(), cache)

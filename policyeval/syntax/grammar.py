"""Locate `pel.lark` and build the one `.pel` parser.

The grammar ships as package data in a wheel (`policyeval/grammars/pel.lark`, see
pyproject's force-include) and lives in `grammars/` in a checkout. Parsers are built once per
process by cached factories; nothing here holds class-level state. Lark is imported only when
a Lark parser is built: a text in the language is parsed by the driver from its stored tables
(`load_driver_tables`), which needs no Lark at all.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Lark is imported when a parser is built, not with this module
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
    from lark import Lark

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


def _cache_folder() -> str | None:
    """The private cache folder (`$XDG_CACHE_HOME/policyeval` or `~/.cache/policyeval`,
    mode 0700, owned by the current user), or None: no cache at all."""
    import stat

    if os.environ.get(NO_CACHE_ENV) or not hasattr(os, "getuid"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "policyeval")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.stat(folder, follow_symlinks=False)
    except OSError:
        return None
    private = stat.S_ISDIR(info.st_mode) and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if not private or info.st_uid != os.getuid():
        return None
    return folder


def _grammar_digest() -> str:
    return hashlib.sha256(grammar_text().encode("utf-8")).hexdigest()[:16]


def cache_file(variant: str) -> str | bool:
    """Where Lark keeps the analysed grammar between runs, or False for no cache.

    Building the strict LALR parser (grammar analysis and terminal-collision checks) costs
    most of a cold `policyeval check` on a `.pel` file; Lark's `cache=` stores the result
    and checks the grammar's and options' hash on load. Lark's cache is a pickle, so it is
    only used inside a directory private to the current user (`_cache_folder`); anything
    else means no cache.
    """
    import lark

    folder = _cache_folder()
    if folder is None:
        return False
    digest = _grammar_digest()
    return os.path.join(folder, f"pel-{variant}-lark{lark.__version__}-{digest}-grammar.cache")


_VERSION = re.compile(r"""^__version__\s*(?::\s*str\s*)?=\s*["']([^"'\s]+)["']""", re.MULTILINE)


def _lark_version() -> str | None:
    """Lark's version, read from its `__init__.py` without importing it (None if unknown)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("lark")
        if spec is None or spec.origin is None:
            return None
        with open(spec.origin, encoding="utf-8") as file:
            found = _VERSION.search(file.read())
    except (OSError, ValueError, ImportError):
        return None
    return found.group(1) if found else None


#: The layout of the driver-table file; a file of another layout is ignored and rewritten.
DRIVER_TABLES_FORMAT = 1


def _driver_tables_key(variant: str, comment_types: frozenset[str]) -> tuple[str, str] | None:
    """The driver-table file of a parser and the key its content must carry, or None."""
    from policyeval.syntax.driver import TABLES_FORMAT

    folder = _cache_folder()
    version = _lark_version()
    if folder is None or version is None:
        return None
    digest = _grammar_digest()
    fmt = f"{DRIVER_TABLES_FORMAT}.{TABLES_FORMAT}"
    key = json.dumps([variant, version, digest, fmt, sorted(comment_types)])
    name = f"pel-{variant}-lark{version}-{digest}-driver{fmt}.json"
    return os.path.join(folder, name), key


def load_driver_tables(variant: str, comment_types: frozenset[str]) -> Any | None:
    """The driver tables `store_driver_tables` wrote for this grammar, Lark version and
    format, or None (no cache, no file, another key, or content that is not intact).

    The file is JSON (input is never executed): a header line with the key and the
    SHA-256 of the body, then the body; anything else is ignored.
    """
    where = _driver_tables_key(variant, comment_types)
    if where is None:
        return None
    path, key = where
    try:
        with open(path, "rb") as file:
            raw = file.read()
        head, _, body = raw.partition(b"\n")
        header = json.loads(head)
        if not isinstance(header, dict) or header.get("key") != key:
            return None
        if header.get("sha256") != hashlib.sha256(body).hexdigest():
            return None
        return json.loads(body)
    except (OSError, ValueError, RecursionError):
        return None


def store_driver_tables(
    variant: str, comment_types: frozenset[str], tables: Callable[[], Any]
) -> None:
    """Write the driver tables `tables()` gives for `load_driver_tables` (atomically;
    silently not at all when there is no cache or the folder cannot be written, and then
    without calling `tables`, which compiles every lexer state)."""
    import lark

    where = _driver_tables_key(variant, comment_types)
    if where is None or lark.__version__ != _lark_version():
        return
    path, key = where
    body = json.dumps(tables(), separators=(",", ":"), sort_keys=True).encode("utf-8")
    header = json.dumps({"key": key, "sha256": hashlib.sha256(body).hexdigest()})
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(header.encode("utf-8") + b"\n" + body)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def build_parser_for_benchmark(cache: bool | str) -> Lark:
    """A fresh parser with Lark's `cache=` option, for `bench/parse_bench.py` only."""
    return _build(False, CommentSink(), cache)

"""JSON and YAML loading that keeps a source position for every value.

Findings must point at the line of a task definition or template that caused them, so the
loaders return `dict`, `list` and `str` *subclasses* that remember where they came from;
plain code (`isinstance(x, dict)`, `x["Key"]`) works on them unchanged. Numbers, booleans
and `null` stay plain Python values: ask their container with `span_at`.

Both loaders are iterative (no recursion, so nesting depth is a checked limit rather than a
`RecursionError`), refuse oversized input, and YAML goes through PyYAML's *safe* parser
only: no Python tags are ever constructed. CloudFormation's short-form tags (`!Ref`,
`!GetAtt` …) become their long JSON form so readers see one shape.

Lines and columns are 1-based; columns count Unicode code points (as Lark and SARIF do).
"""

from __future__ import annotations

import bisect
import itertools
import json.decoder
import operator
import re
from collections.abc import Callable
from typing import Any

from policyeval.errors import Diagnostic, Severity, Span

#: The `json` module's C string scanner: fast, exact JSON string rules, and it reports the
#: end offset we need for spans. (Public in `json.decoder`, missing from typeshed.)
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]

#: Largest input accepted by default, in characters. Account dumps of large estates run to
#: tens of megabytes; beyond this a caller must raise the limit on purpose.
MAX_INPUT_CHARS = 64 * 1024 * 1024
#: Deepest nesting of objects/arrays (mappings/sequences) accepted by default.
MAX_DEPTH = 512
#: Most values one YAML document may expand to once aliases are followed (alias bombs).
MAX_YAML_NODES = 1_000_000

CODE_BAD_JSON = "PE060"
CODE_BAD_YAML = "PE061"
CODE_TOO_DEEP = "PE090"
CODE_ALIAS_BOMB = "PE091"
CODE_TOO_LARGE = "PE092"

#: CloudFormation short-form tags and the long form each one stands for
#: (CloudFormation User Guide, "Intrinsic function reference").
CFN_TAGS: dict[str, str] = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    "!GetAtt": "Fn::GetAtt",
    "!Sub": "Fn::Sub",
    "!Join": "Fn::Join",
    "!Select": "Fn::Select",
    "!If": "Fn::If",
    "!ImportValue": "Fn::ImportValue",
    "!FindInMap": "Fn::FindInMap",
    "!Equals": "Fn::Equals",
    "!Not": "Fn::Not",
    "!And": "Fn::And",
    "!Or": "Fn::Or",
    "!Base64": "Fn::Base64",
    "!Split": "Fn::Split",
    "!GetAZs": "Fn::GetAZs",
    "!Cidr": "Fn::Cidr",
    "!Length": "Fn::Length",
    "!ToJsonString": "Fn::ToJsonString",
    "!Transform": "Fn::Transform",
}


class InputError(Exception):
    """A file could not be loaded at all; `diagnostic` says where and why."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


# -- positions --------------------------------------------------------------------------

# A raw position is either a finished Span (YAML marks) or a (start, end) pair of character
# offsets that `_Locator` turns into a Span on demand (JSON: most spans are never asked for,
# so computing line and column lazily keeps big account dumps fast).
_Raw = Span | tuple[int, int]


class _Locator:
    """Turns character offsets of one text into 1-based line/column spans."""

    __slots__ = ("anchor", "line_starts", "path")

    def __init__(self, text: str, path: str, anchor: Span | None = None) -> None:
        self.path = path
        self.anchor = anchor
        self.line_starts = [0] if anchor is not None else _line_starts(text)

    def span(self, raw: _Raw) -> Span:
        if isinstance(raw, Span):
            return raw
        if self.anchor is not None:
            return self.anchor
        start, end = raw
        line, col = self.line_col(start)
        end_line, end_col = self.line_col(end)
        return Span(self.path, line, col, end_line, end_col)

    def line_col(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.line_starts, offset) - 1
        return index + 1, offset - self.line_starts[index] + 1


def _line_starts(text: str) -> list[int]:
    """Offset of the first character of each line (lines end at `\n` only)."""
    lengths = map(len, text.split("\n"))
    # Line i starts after the i previous lines and their i newlines.
    return list(
        map(operator.add, itertools.accumulate(lengths, initial=0), range(text.count("\n") + 1))
    )


class SpannedDict(dict[str, Any]):
    """A mapping that knows its own span and those of its keys and values."""

    __slots__ = ("_keys", "_loc", "_raw", "_values")

    def __init__(self, loc: _Locator | None, raw: _Raw) -> None:
        super().__init__()
        self._loc = loc
        self._raw = raw
        self._keys: dict[str, _Raw] = {}
        self._values: dict[str, _Raw] = {}


class SpannedList(list[Any]):
    """A sequence that knows its own span and that of each item."""

    __slots__ = ("_items", "_loc", "_raw")

    def __init__(self, loc: _Locator | None, raw: _Raw) -> None:
        super().__init__()
        self._loc = loc
        self._raw = raw
        self._items: list[_Raw] = []


class SpannedStr(str):
    """A string value that knows where it was written."""

    __slots__ = ("_loc", "_raw")
    _loc: _Locator | None
    _raw: _Raw

    @classmethod
    def make(cls, value: str, loc: _Locator | None, raw: _Raw) -> SpannedStr:
        out = cls(value)
        out._loc = loc
        out._raw = raw
        return out


def _resolve(loc: _Locator | None, raw: _Raw | None) -> Span | None:
    if raw is None:
        return None
    if isinstance(raw, Span):
        return raw
    if loc is None:
        return None
    return loc.span(raw)


def span_of(value: Any) -> Span | None:
    """The span of a container or string returned by the loaders; None for plain values."""
    if isinstance(value, SpannedDict | SpannedList | SpannedStr):
        return _resolve(value._loc, value._raw)
    return None


def span_at(container: Any, key: str | int) -> Span | None:
    """The span of the value at `key` (works for numbers, booleans and null too)."""
    if isinstance(container, SpannedDict) and isinstance(key, str):
        return _resolve(container._loc, container._values.get(key))
    if (
        isinstance(container, SpannedList)
        and isinstance(key, int)
        and not isinstance(key, bool)
        and -len(container._items) <= key < len(container._items)
    ):
        return _resolve(container._loc, container._items[key])
    return None


def key_span(mapping: Any, key: str) -> Span | None:
    """The span of a mapping's key itself (for "unknown key" diagnostics)."""
    if isinstance(mapping, SpannedDict):
        return _resolve(mapping._loc, mapping._keys.get(key))
    return None


def span_near(container: Any, key: str | int) -> Span | None:
    """The best span for something about `container[key]`: the value, else the key, else the
    container itself (a missing key is reported where its mapping is)."""
    found = span_at(container, key)
    if found is None and isinstance(key, str):
        found = key_span(container, key)
    return found if found is not None else span_of(container)


# -- JSON -------------------------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LITERALS: dict[str, tuple[str, Any]] = {
    "t": ("true", True),
    "f": ("false", False),
    "n": ("null", None),
}


def _json_error(loc: _Locator, offset: int, message: str, code: str = CODE_BAD_JSON) -> InputError:
    if loc.anchor is not None:
        span = loc.anchor
    else:
        line, col = loc.line_col(offset)
        span = Span(loc.path, line, col, line, col + 1)
    return InputError(Diagnostic(code, Severity.ERROR, message, span=span))


def _string_error(loc: _Locator, pos: int, exc: ValueError) -> InputError:
    """Word the `json` module's string errors our way ("unterminated string starting at")."""
    what = str(getattr(exc, "msg", "invalid string")).lower().removesuffix(" at")
    return _json_error(loc, getattr(exc, "pos", pos), f"malformed JSON: {what}")


def _describe(text: str, pos: int) -> str:
    if pos >= len(text):
        return "end of file"
    ch = text[pos]
    return f"`{ch}`" if ch.isprintable() and ch != "`" else f"character U+{ord(ch):04X}"


def load_json(
    text: str,
    path: str,
    *,
    max_chars: int = MAX_INPUT_CHARS,
    max_depth: int = MAX_DEPTH,
    at: Span | None = None,
) -> Any:
    """Parse JSON text, keeping positions; raises `InputError` on malformed input.

    `at` makes every span equal to that span: used for JSON embedded in a string (a
    Terraform `policy` attribute), whose inner positions the file cannot show.
    Duplicate keys: the last one wins, as with Python's `json` and AWS's own parsers.

    Two strategies, one result: well-formed input is parsed by the `json` module's C parser
    and its positions come from one C regular-expression pass over the tokens (values and
    tokens appear in the same order); anything else — malformed, too deep, `NaN`, huge
    numbers — goes through the position-keeping scanner, which words the diagnostic.
    """
    loc = _Locator(text, path, at)
    if len(text) > max_chars:
        raise _json_error(
            loc, 0, f"file is larger than the limit of {max_chars} characters", CODE_TOO_LARGE
        )
    fast = _load_json_fast(text, loc, max_depth)
    if fast is not _NO_RESULT:
        return fast
    return _scan_json(text, loc, max_depth)


class _Pairs(list[tuple[str, Any]]):
    """An object's (key, value) pairs in input order, duplicates kept (`object_pairs_hook`)."""

    __slots__ = ()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"`{name}` is not JSON")  # NaN / Infinity: leave them to the scanner


_DECODER = json.decoder.JSONDecoder(object_pairs_hook=_Pairs, parse_constant=_reject_constant)
#: Every token that carries a value, in input order: brackets, strings, numbers, literals
#: (commas, colons and whitespace are skipped). Only used on text the decoder accepted.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]]|[-0-9][-+.0-9eE]*|true|false|null')
_NO_RESULT: Any = object()
_match_span = re.Match.span


class _TooDeep(Exception):
    pass


def _load_json_fast(text: str, loc: _Locator, max_depth: int) -> Any:
    """The document built from the C parser's values and the token spans; `_NO_RESULT`
    when the scanner must decide (it raises the right diagnostic)."""
    offset = 1 if text.startswith("\ufeff") else 0
    try:
        value = _DECODER.decode(text[offset:] if offset else text)
    except (ValueError, RecursionError):
        return _NO_RESULT
    raws: list[tuple[int, int]] = list(map(_match_span, _TOKEN.finditer(text, offset)))
    position = 0

    def build(value: Any, depth: int) -> Any:
        """Turn one decoded container into its spanned twin, consuming its tokens."""
        nonlocal position
        if depth > max_depth:
            raise _TooDeep
        start = raws[position][0]
        position += 1
        if type(value) is _Pairs:
            mapping = SpannedDict(loc, (start, start))
            keys, values = mapping._keys, mapping._values
            for key, item in value:
                keys[key] = raws[position]
                position += 1
                kind = type(item)
                if kind is str:
                    raw = raws[position]
                    position += 1
                    text_value = SpannedStr(item)
                    text_value._loc = loc
                    text_value._raw = raw
                    mapping[key] = text_value
                    values[key] = raw
                elif kind is _Pairs or kind is list:
                    child = build(item, depth + 1)
                    mapping[key] = child
                    values[key] = child._raw
                else:
                    mapping[key] = item
                    values[key] = raws[position]
                    position += 1
            mapping._raw = (start, raws[position][1])
            position += 1
            return mapping
        sequence = SpannedList(loc, (start, start))
        items = sequence._items
        for item in value:
            kind = type(item)
            if kind is str:
                raw = raws[position]
                position += 1
                text_value = SpannedStr(item)
                text_value._loc = loc
                text_value._raw = raw
                sequence.append(text_value)
                items.append(raw)
            elif kind is _Pairs or kind is list:
                child = build(item, depth + 1)
                sequence.append(child)
                items.append(child._raw)
            else:
                sequence.append(item)
                items.append(raws[position])
                position += 1
        sequence._raw = (start, raws[position][1])
        position += 1
        return sequence

    kind = type(value)
    if kind is _Pairs or kind is list:
        try:
            return build(value, 1)
        except (_TooDeep, RecursionError):
            return _NO_RESULT
    if kind is str:
        return SpannedStr.make(value, loc, raws[0])
    return value


def _scan_json(text: str, loc: _Locator, max_depth: int) -> Any:
    """The position-keeping scanner: exact diagnostics for any input."""
    n = len(text)
    pos = _WS.match(text, 1 if text.startswith("\ufeff") else 0).end()  # type: ignore[union-attr]
    # Each frame is an open container plus, for objects, the key awaiting its value.
    stack: list[tuple[SpannedDict | SpannedList, int, list[str]]] = []
    match_ws = _WS.match
    while True:
        # -- read one value starting at pos --------------------------------------------
        if pos >= n:
            raise _json_error(loc, pos, "malformed JSON: expected a value, found end of file")
        ch = text[pos]
        value: Any
        start = pos
        if ch in "{[":
            if len(stack) >= max_depth:
                raise _json_error(
                    loc, pos, f"nesting deeper than the limit of {max_depth}", CODE_TOO_DEEP
                )
            container: SpannedDict | SpannedList = (
                SpannedDict(loc, (pos, pos)) if ch == "{" else SpannedList(loc, (pos, pos))
            )
            close = "}" if ch == "{" else "]"
            pos = match_ws(text, pos + 1).end()  # type: ignore[union-attr]
            if pos < n and text[pos] == close:
                pos += 1
                container._raw = (start, pos)
                value = container
            else:
                pending: list[str] = []
                stack.append((container, start, pending))
                if isinstance(container, SpannedDict):
                    pos = _read_key(text, pos, loc, container, pending)
                continue
        elif ch == '"':
            try:
                s, end = _scanstring(text, pos + 1, True)
            except ValueError as exc:
                raise _string_error(loc, pos, exc) from None
            value = SpannedStr.make(s, loc, (pos, end))
            pos = end
        elif ch in _LITERALS:
            word, literal = _LITERALS[ch]
            if not text.startswith(word, pos):
                raise _json_error(loc, pos, f"malformed JSON: unexpected {_describe(text, pos)}")
            value = literal
            pos += len(word)
        else:
            m = _NUMBER.match(text, pos)
            if m is None or m.end() == pos:
                raise _json_error(
                    loc, pos, f"malformed JSON: expected a value, found {_describe(text, pos)}"
                )
            literal_text = m.group(0)
            try:
                value = (
                    float(literal_text)
                    if m.group(1) or m.group(2)
                    else int(literal_text)  # may exceed int digit limits
                )
            except ValueError:
                raise _json_error(loc, pos, "malformed JSON: number too long") from None
            pos = m.end()
        # -- attach the finished value to its parents, closing containers as we go ---------
        while True:
            if not stack:
                pos = match_ws(text, pos).end()  # type: ignore[union-attr]
                if pos != n:
                    raise _json_error(
                        loc,
                        pos,
                        f"malformed JSON: unexpected {_describe(text, pos)} after the document",
                    )
                return value
            parent, parent_start, pending = stack[-1]
            if isinstance(parent, SpannedDict):
                key = pending.pop()
                parent[key] = value
                parent._values[key] = (start, pos)
                close = "}"
            else:
                parent.append(value)
                parent._items.append((start, pos))
                close = "]"
            pos = match_ws(text, pos).end()  # type: ignore[union-attr]
            nxt = text[pos] if pos < n else ""
            if nxt == ",":
                pos = match_ws(text, pos + 1).end()  # type: ignore[union-attr]
                if isinstance(parent, SpannedDict):
                    pos = _read_key(text, pos, loc, parent, pending)
                break
            if nxt == close:
                pos += 1
                stack.pop()
                parent._raw = (parent_start, pos)
                value, start = parent, parent_start
                continue
            raise _json_error(
                loc,
                pos,
                f"malformed JSON: expected `,` or `{close}`, found {_describe(text, pos)}",
            )


def _read_key(text: str, pos: int, loc: _Locator, obj: SpannedDict, pending: list[str]) -> int:
    """Read `"key" :` at pos; push the key on `pending`; return the position of the value."""
    if pos >= len(text) or text[pos] != '"':
        raise _json_error(
            loc, pos, f"malformed JSON: expected a quoted key, found {_describe(text, pos)}"
        )
    try:
        key, end = _scanstring(text, pos + 1, True)
    except ValueError as exc:
        raise _string_error(loc, pos, exc) from None
    obj._keys[key] = (pos, end)
    pos = _WS.match(text, end).end()  # type: ignore[union-attr]
    if pos >= len(text) or text[pos] != ":":
        raise _json_error(
            loc, pos, f"malformed JSON: expected `:` after a key, found {_describe(text, pos)}"
        )
    pending.append(key)
    return _WS.match(text, pos + 1).end()  # type: ignore[union-attr]


# -- YAML -------------------------------------------------------------------------------


def load_yaml_documents(
    text: str,
    path: str,
    *,
    max_chars: int = MAX_INPUT_CHARS,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_YAML_NODES,
) -> list[Any]:
    """Parse every document of a YAML stream, keeping positions; raises `InputError`.

    The YAML machinery lives in `yaml_positions` and is imported on first use: PyYAML costs
    a noticeable share of the start-up of a pre-commit check that only reads JSON or `.pel`.
    """
    from policyeval.readers import yaml_positions

    return yaml_positions.load_yaml_documents(
        text, path, max_chars=max_chars, max_depth=max_depth, max_nodes=max_nodes
    )

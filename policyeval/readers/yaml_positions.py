"""YAML loading that keeps a source position for every value (see `positions`).

PyYAML's *safe* parser only: documents are built from its event stream, so no Python tag is
ever constructed. CloudFormation's short-form tags (`!Ref`, `!GetAtt` …) become their long
JSON form so readers see one shape. Kept apart from `positions` so that reading JSON never
imports PyYAML.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml import events as ev

from policyeval.errors import Diagnostic, Severity, Span
from policyeval.readers.positions import (
    CFN_TAGS,
    CODE_ALIAS_BOMB,
    CODE_BAD_YAML,
    CODE_TOO_DEEP,
    CODE_TOO_LARGE,
    MAX_DEPTH,
    MAX_INPUT_CHARS,
    MAX_YAML_NODES,
    InputError,
    SpannedDict,
    SpannedList,
    SpannedStr,
)


class _SafeEventLoader(yaml.SafeLoader):
    """PyYAML's safe loader, used only for its scanner, parser, resolver and the safe scalar
    constructors; documents are built from the event stream below, never by `construct_*`
    of arbitrary tags."""


#: libyaml's parser behind the same safe resolver and constructors, when PyYAML was built
#: with it: about 100 times faster on large files (a 50 MB template parses in a second, not a
#: minute). Its error wording and positions differ, so a file it rejects is parsed again by
#: the pure-Python parser when small enough (`MAX_REPARSE_CHARS`) to word the error the same
#: way everywhere.
_FastEventLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", _SafeEventLoader)
#: Largest malformed YAML input parsed a second time for a better-worded error.
MAX_REPARSE_CHARS = 1024 * 1024


_STR_TAG = "tag:yaml.org,2002:str"
_SCALAR_BUILDERS = {
    "tag:yaml.org,2002:int": _SafeEventLoader.construct_yaml_int,
    "tag:yaml.org,2002:float": _SafeEventLoader.construct_yaml_float,
    "tag:yaml.org,2002:bool": _SafeEventLoader.construct_yaml_bool,
    "tag:yaml.org,2002:null": _SafeEventLoader.construct_yaml_null,
}
_TEXT_TAGS = {
    _STR_TAG,
    "tag:yaml.org,2002:timestamp",  # kept as written: readers compare text, not dates
    "tag:yaml.org,2002:binary",
    "tag:yaml.org,2002:value",
}
_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_CONTAINER_TAGS = {"!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def _mark_span(path: str, start: Any, end: Any) -> Span:
    """PyYAML marks are 0-based; spans are 1-based."""
    return Span(path, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _yaml_error(path: str, mark: Any, message: str, code: str = CODE_BAD_YAML) -> InputError:
    if mark is None:
        span = Span(path, 1, 1)
    else:
        span = Span(path, mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 2)
    return InputError(Diagnostic(code, Severity.ERROR, message, span=span))


class _Frame:
    """An open YAML mapping or sequence while its events arrive."""

    __slots__ = (
        "anchor",
        "container",
        "key",
        "key_raw",
        "merge_key",
        "merges",
        "size",
        "start",
        "tag",
    )

    def __init__(self, container: SpannedDict | SpannedList, tag: str | None, anchor: Any) -> None:
        self.container = container
        self.tag = tag
        self.anchor = anchor
        self.key: str | None = None
        self.key_raw: Span | None = None
        self.merge_key = False
        self.merges: list[SpannedDict] = []
        self.size = 1
        self.start: Any = None


def load_yaml_documents(
    text: str,
    path: str,
    *,
    max_chars: int = MAX_INPUT_CHARS,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_YAML_NODES,
) -> list[Any]:
    """Parse every document of a YAML stream, keeping positions; raises `InputError`.

    Only the safe subset is understood: standard scalars, mappings, sequences, anchors and
    merge keys, plus CloudFormation short tags (turned into their long form). Any other
    explicit tag is an error rather than a guess.
    """
    if len(text) > max_chars:
        raise _yaml_error(
            path, None, f"file is larger than the limit of {max_chars} characters", CODE_TOO_LARGE
        )
    if _FastEventLoader is not _SafeEventLoader:
        try:
            return _load_yaml_with(_FastEventLoader, text, path, max_depth, max_nodes)
        except UnicodeEncodeError:
            pass  # lone surrogates (text from a library caller): libyaml cannot take them
        except InputError:
            if len(text) > MAX_REPARSE_CHARS:
                raise
    return _load_yaml_with(_SafeEventLoader, text, path, max_depth, max_nodes)


def _load_yaml_with(
    loader_class: type[yaml.SafeLoader], text: str, path: str, max_depth: int, max_nodes: int
) -> list[Any]:
    loader: yaml.SafeLoader | None = None
    try:
        loader = loader_class(text)
        return _build_documents(loader, path, max_depth, max_nodes)
    except yaml.reader.ReaderError as exc:
        # Raised for characters YAML does not allow, before any mark exists.
        line, col = _line_col(text, exc.position)
        raise InputError(
            Diagnostic(
                CODE_BAD_YAML,
                Severity.ERROR,
                f"malformed YAML: character U+{exc.character:04X} is not allowed",
                span=Span(path, line, col, line, col + 1),
            )
        ) from None
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or "invalid YAML"
        context = f" {exc.context}" if exc.context else ""
        raise _yaml_error(
            path, exc.problem_mark, f"malformed YAML: {problem}{context}".rstrip(". ")
        ) from None
    except yaml.YAMLError as exc:
        raise _yaml_error(path, None, f"malformed YAML: {exc}".rstrip(". ")) from None
    finally:
        if loader is not None:
            loader.dispose()


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _build_documents(
    loader: yaml.SafeLoader, path: str, max_depth: int, max_nodes: int
) -> list[Any]:
    documents: list[Any] = []
    anchors: dict[str, tuple[Any, Span, int]] = {}
    stack: list[_Frame] = []
    root: Any = None
    total = 0
    while loader.check_event():
        event = loader.get_event()  # type: ignore[no-untyped-call]
        if isinstance(event, ev.DocumentStartEvent):
            anchors = {}
            root = None
            total = 0
            continue
        if isinstance(event, ev.DocumentEndEvent):
            documents.append(root)
            continue
        if isinstance(event, ev.StreamStartEvent | ev.StreamEndEvent):
            continue
        value: Any
        raw: Span
        size = 1
        if isinstance(event, ev.MappingStartEvent | ev.SequenceStartEvent):
            if len(stack) >= max_depth:
                raise _yaml_error(
                    path,
                    event.start_mark,
                    f"nesting deeper than the limit of {max_depth}",
                    CODE_TOO_DEEP,
                )
            tag = _container_tag(event, path)
            raw0 = _mark_span(path, event.start_mark, event.end_mark)
            container: SpannedDict | SpannedList = (
                SpannedDict(None, raw0)
                if isinstance(event, ev.MappingStartEvent)
                else SpannedList(None, raw0)
            )
            frame = _Frame(container, tag, event.anchor)
            frame.start = event.start_mark
            if event.anchor is not None:
                # Registered while open, so an alias to it from inside is caught as recursive.
                anchors[event.anchor] = (None, raw0, -1)
            stack.append(frame)
            continue
        if isinstance(event, ev.MappingEndEvent | ev.SequenceEndEvent):
            frame = stack.pop()
            done = frame.container
            span = _mark_span(path, frame.start, event.end_mark)
            done._raw = span
            if isinstance(done, SpannedDict):
                for merged in frame.merges:
                    for k, v in merged.items():
                        if k not in done:
                            done[k] = v
                            done._keys[k] = merged._keys.get(k, span)
                            done._values[k] = merged._values.get(k, span)
            value, raw, size = _wrap_tag(done, frame.tag, span), span, frame.size
            if frame.anchor is not None:
                anchors[frame.anchor] = (value, raw, size)
        elif isinstance(event, ev.AliasEvent):
            found = anchors.get(event.anchor) if event.anchor is not None else None
            if found is None:
                raise _yaml_error(
                    path, event.start_mark, f"malformed YAML: unknown alias `{event.anchor}`"
                )
            value, _, size = found
            if size < 0:
                raise _yaml_error(
                    path,
                    event.start_mark,
                    f"alias `{event.anchor}` refers to a value that contains it",
                    CODE_ALIAS_BOMB,
                )
            raw = _mark_span(path, event.start_mark, event.end_mark)
        elif isinstance(event, ev.ScalarEvent):
            raw = _mark_span(path, event.start_mark, event.end_mark)
            value = _scalar(loader, event, path, raw)
            if event.anchor is not None:
                anchors[event.anchor] = (value, raw, 1)
        else:  # pragma: no cover - PyYAML emits no other event kinds
            continue
        total += size
        if total > max_nodes:
            raise _yaml_error(
                path,
                getattr(event, "start_mark", None),
                f"document expands to more than {max_nodes} values",
                CODE_ALIAS_BOMB,
            )
        if not stack:
            root = _unmerge(value, raw)
            continue
        parent = stack[-1]
        parent.size += size
        holder = parent.container
        if isinstance(holder, SpannedList):
            holder.append(_unmerge(value, raw))
            holder._items.append(raw)
        elif parent.key is None:
            parent.key_raw = raw
            parent.merge_key = value is _MERGE
            parent.key = _mapping_key(value, event, path)
        else:
            key, parent.key = parent.key, None
            if parent.merge_key:
                parent.merges.extend(_merge_sources(value, event, path))
                continue
            holder[key] = _unmerge(value, raw)
            holder._keys[key] = parent.key_raw or raw
            holder._values[key] = raw
    return documents


#: What the resolver's merge tag (a plain `<<`) becomes until its position is known.
_MERGE = object()


def _unmerge(value: Any, raw: Span) -> Any:
    """A `<<` outside key position is just text."""
    return SpannedStr.make("<<", None, raw) if value is _MERGE else value


def _mapping_key(value: Any, event: Any, path: str) -> str:
    if value is _MERGE:
        return "<<"
    if isinstance(value, SpannedStr):
        return str(value)
    if isinstance(event, ev.ScalarEvent):
        # A plain `1:` or `true:` key: keep the text as written; JSON keys are text.
        return str(event.value)
    raise _yaml_error(
        path, getattr(event, "start_mark", None), "malformed YAML: unsupported mapping key"
    )


def _merge_sources(value: Any, event: Any, path: str) -> list[SpannedDict]:
    if isinstance(value, SpannedDict):
        return [value]
    if isinstance(value, SpannedList) and all(isinstance(v, SpannedDict) for v in value):
        return list(value)
    raise _yaml_error(
        path,
        getattr(event, "start_mark", None),
        "malformed YAML: a merge key `<<` needs a mapping or a list of mappings",
    )


def _container_tag(event: Any, path: str) -> str | None:
    tag: str | None = event.tag
    if tag is None or tag in _PLAIN_CONTAINER_TAGS:
        return None
    if tag in CFN_TAGS:
        return tag
    raise _yaml_error(path, event.start_mark, f"malformed YAML: unsupported tag `{tag}`")


def _wrap_tag(value: Any, tag: str | None, span: Span) -> Any:
    """`!GetAtt A.B` → `{"Fn::GetAtt": ["A", "B"]}`, `!Ref X` → `{"Ref": "X"}` …"""
    if tag is None:
        return value
    long_name = CFN_TAGS[tag]
    if tag == "!GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        parts = SpannedList(None, span)
        for piece in (resource, attribute):
            parts.append(SpannedStr.make(piece, None, span))
            parts._items.append(span)
        value = parts
    out = SpannedDict(None, span)
    out[long_name] = value
    out._keys[long_name] = span
    out._values[long_name] = span
    return out


def _scalar(loader: yaml.SafeLoader, event: Any, path: str, raw: Span) -> Any:
    tag = event.tag
    if tag is not None and tag != "!" and not tag.startswith("tag:yaml.org,2002:"):
        if tag in CFN_TAGS:
            return _wrap_tag(SpannedStr.make(event.value, None, raw), tag, raw)
        raise _yaml_error(path, event.start_mark, f"malformed YAML: unsupported tag `{tag}`")
    if tag is None or tag == "!":
        implicit = event.implicit if tag is None else (False, False)
        tag = loader.resolve(yaml.ScalarNode, event.value, implicit)  # type: ignore[no-untyped-call]
    if tag == _MERGE_TAG:
        return _MERGE
    if tag in _TEXT_TAGS:
        return SpannedStr.make(event.value, None, raw)
    builder = _SCALAR_BUILDERS.get(tag)
    if builder is None:
        raise _yaml_error(path, event.start_mark, f"malformed YAML: unsupported tag `{tag}`")
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark)
    try:
        return builder(loader, node)
    except (ValueError, TypeError, OverflowError):
        raise _yaml_error(
            path,
            event.start_mark,
            f"malformed YAML: `{event.value[:40]}` is not a valid {tag[18:]}",
        ) from None

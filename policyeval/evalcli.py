"""What `policyeval eval` does: read policy files per gate, decide, print the explanation.

Kept out of `cli.py` so the CLI module stays a thin layer of options.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, cast

from policyeval.batch import answer_lines, decision_json
from policyeval.compiler.compiled import PolicySet, compile_policies
from policyeval.errors import Diagnostic, Severity, SourceText, render_plain, sorted_diagnostics
from policyeval.evaluator.engine import evaluate
from policyeval.evaluator.request import Request
from policyeval.model.policy import Policy
from policyeval.readers.iam_json import load_policy_text

EXIT_OK = 0
EXIT_ERROR = 2

#: Below this many bytes of cases a second process costs more than it saves.
PARALLEL_MIN_BYTES = 4 * 1024 * 1024
#: Read buffer for cases files: their lines run to kilobytes (a role's policies on every
#: line), and the default 8 KiB buffer made reading them three times slower.
_BUFFER = 1 << 20


def run_cases(source: str, jobs: int | None = None) -> int:
    """Stream cases to answers; a bad case is an error line, never the end of the run.

    A large file is answered on `jobs` processes (default: up to two, one per core); the
    answers come out in input order all the same (`_answer_file`).
    """
    if jobs is None:
        jobs = min(2, os.cpu_count() or 1)
    try:
        stream = sys.stdin.buffer if source == "-" else open(source, "rb", _BUFFER)  # noqa: SIM115
    except OSError as exc:
        sys.stderr.write(f"{source}: PE040 error: cannot read file: {exc.strerror}\n")
        return EXIT_ERROR
    # A batch keeps its compiled policies for the whole run: the cyclic collector would
    # walk them again and again while they hold no cycles to free (reference counting
    # frees the rest).
    gc.disable()
    try:
        with stream:
            write = _writer()
            if source == "-":  # a stream: each answer goes out as soon as it is made
                for answer in answer_lines(stream):
                    write(answer)
            else:
                chunks = _Chunks(write)
                _answer_file(stream, source, chunks.write, jobs)
                chunks.flush()
    finally:
        # Freeze what the run made before the collector is back: the next collection (the
        # one enabling it triggers, and the one at exit) would otherwise walk every cached
        # object once more, which took longer than a quarter of a 20,000-case run.
        gc.freeze()
        gc.enable()
    sys.stdout.flush()
    return EXIT_OK


def _writer() -> Callable[[bytes], object]:
    """Write answer bytes to stdout (through its text layer when it has no byte buffer)."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        return cast("Callable[[bytes], object]", buffer.write)
    text = sys.stdout
    return lambda data: text.write(data.decode())


class _Chunks:
    """Answers gathered into writes of about a megabyte: stdout may be unbuffered
    (`python -u`, PYTHONUNBUFFERED), and a write call per answer then costs a system call
    each, a tenth of a 20,000-case run into a pipe."""

    def __init__(self, write: Callable[[bytes], object]) -> None:
        self._write = write
        self._parts: list[bytes] = []
        self._size = 0

    def write(self, data: bytes) -> None:
        self._parts.append(data)
        self._size += len(data)
        if self._size >= _BUFFER:
            self.flush()

    def flush(self) -> None:
        if self._parts:
            self._write(b"".join(self._parts))
            self._parts.clear()
            self._size = 0


def _answer_file(stream: BinaryIO, path: str, write: Callable[[bytes], object], jobs: int) -> None:
    """Answer every line of a file. A file of at least `PARALLEL_MIN_BYTES` is cut at the
    line start nearest its middle; a forked child answers the second half into a spool file
    while this process answers the first, then the spool is copied out after the first
    half's answers. Each process has its own caches, so the answers are the ones one
    process gives. If the child fails in any way, its half is answered here."""
    size = os.fstat(stream.fileno()).st_size
    split = _line_start_from(stream, size // 2) if jobs > 1 and size >= PARALLEL_MIN_BYTES else 0
    if not 0 < split < size or not hasattr(os, "fork"):
        stream.seek(0)
        for answer in answer_lines(stream):
            write(answer)
        return
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile() as spool:
        child = os.fork()
        if child == 0:  # pragma: no cover (runs in the child; its output is checked)
            status = 1
            try:
                with open(path, "rb", _BUFFER) as own:  # its own offset: the parent's is shared
                    own.seek(split)
                    for answer in answer_lines(own, lambda: 1 + _lines_in(path, split)):
                        spool.write(answer)
                spool.flush()
                status = 0
            finally:
                os._exit(status)
        stream.seek(0)
        for answer in answer_lines(_lines_before(stream, split)):
            write(answer)
        _, status = os.waitpid(child, 0)
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            spool.seek(0)
            while chunk := spool.read(1 << 20):
                write(chunk)
            return
        stream.seek(0)
        first = 1 + _newlines_before(stream, split)
        stream.seek(split)
        for answer in answer_lines(stream, first):
            write(answer)


def _line_start_from(stream: BinaryIO, offset: int) -> int:
    """The offset of the first line that starts at or after `offset` (the size if none)."""
    if offset <= 0:
        return 0
    stream.seek(offset - 1)
    position = offset - 1
    while chunk := stream.read(1 << 16):
        found = chunk.find(b"\n")
        if found >= 0:
            return position + found + 1
        position += len(chunk)
    return position


def _lines_before(stream: BinaryIO, end: int) -> Iterator[bytes]:
    """The lines from the current offset up to `end`, a line start."""
    position = stream.tell()
    while position < end:
        line = stream.readline()
        if not line:
            return
        position += len(line)
        yield line


def _lines_in(path: str, end: int) -> int:
    """The number of lines in the first `end` bytes of the file at `path`."""
    with open(path, "rb", _BUFFER) as stream:
        return _newlines_before(stream, end)


def _newlines_before(stream: BinaryIO, end: int) -> int:
    stream.seek(0)
    count = 0
    left = end
    while left > 0 and (chunk := stream.read(min(left, 1 << 20))):
        count += chunk.count(b"\n")
        left -= len(chunk)
    return count


def _load(path: Path, sources: SourceText, problems: list[Diagnostic]) -> Policy | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Diagnostic("PE040", Severity.ERROR, f"cannot read file: {exc}", None))
        return None
    sources.add(str(path), text)
    policy, diagnostics = load_policy_text(text, str(path))
    problems.extend(diagnostics)
    return policy


def run_one(
    *,
    principal: str | None,
    action: str | None,
    resource: str | None,
    context: list[str],
    identity: list[Path],
    boundary: Path | None,
    session: Path | None,
    resource_policy: Path | None,
    scps: list[Path],
    rcps: list[Path],
    resource_account: str | None,
    as_json: bool,
) -> int:
    problems: list[Diagnostic] = []
    if not principal or not action or not resource:
        sys.stderr.write(
            "policyeval eval: error: --principal, --action and --resource are required"
            " (or use --cases)\n"
        )
        return EXIT_ERROR
    values: dict[str, list[str]] = {}
    for item in context:
        key, sep, value = item.partition("=")
        if not sep or not key:
            sys.stderr.write(f"policyeval eval: error: context `{item}` must be KEY=VALUE\n")
            return EXIT_ERROR
        values.setdefault(key, []).append(value)
    sources = SourceText()
    loaded = [_load(p, sources, problems) for p in identity]
    one = {
        name: (_load(p, sources, problems) if p else None)
        for name, p in (("boundary", boundary), ("session", session), ("resource", resource_policy))
    }
    scp_levels = [_load(p, sources, problems) for p in scps]
    rcp_levels = [_load(p, sources, problems) for p in rcps]
    if problems:
        for diagnostic in sorted_diagnostics(problems):
            sys.stderr.write(render_plain(diagnostic, sources) + "\n")
        return EXIT_ERROR
    from policyeval.batch import RCP_FULL_ACCESS

    policies = PolicySet(
        identity=tuple(p for p in loaded if p is not None),
        boundary=one["boundary"],
        session=one["session"],
        resource=one["resource"],
        scps=tuple((p,) for p in scp_levels if p is not None),
        rcps=tuple((p, RCP_FULL_ACCESS) for p in rcp_levels if p is not None),
    )
    request = Request(
        principal, action, resource, {k: tuple(v) for k, v in values.items()}, resource_account
    )
    decision = evaluate(compile_policies(policies), request)
    if as_json:
        sys.stdout.write(json.dumps(decision_json(decision), indent=2) + "\n")
        return EXIT_OK
    from rich.console import Console
    from rich.markup import escape as escape_markup

    from policyeval.errors import printable

    def escape(text: str) -> str:
        return escape_markup(printable(text))

    console = Console(highlight=False)
    word = decision.outcome.batch_word or decision.outcome.value
    colour = "green" if decision.allowed else "red"
    console.print(f"[bold {colour}]{escape(word)}[/] — {escape(decision.reason)}")
    if decision.decided_by is not None:
        console.print(f"decided by: {escape(decision.decided_by.value)} policies")
    for ref in decision.matched:
        console.print(f"  • {escape(ref.label())}")
    if decision.deciding_keys:
        console.print(f"deciding keys: {escape(', '.join(decision.deciding_keys))}")
    return EXIT_OK

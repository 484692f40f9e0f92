"""What `policyeval fmt` and `policyeval convert` do, behind the thin typer layer in `cli.py`."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from policyeval.errors import Diagnostic, Severity, SourceText, Span, render_plain

EXIT_CLEAN = 0
EXIT_CHANGED = 1
EXIT_ERROR = 2


def _report(diagnostics: list[Diagnostic], sources: SourceText) -> None:
    for diagnostic in sorted(diagnostics, key=Diagnostic.sort_key):
        sys.stderr.write(render_plain(diagnostic, sources) + "\n")


def _pel_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.pel") if p.is_file()))
        else:
            files.append(path)
    return files


def write_atomically(path: Path, text: str) -> None:
    """Write beside the target, then `os.replace`: readers see the old file or the new one."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        if path.exists():
            os.chmod(temp, path.stat().st_mode & 0o7777)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def run_fmt(paths: list[Path], check: bool) -> int:
    """Format every `.pel` file; with `check`, only say which would change."""
    from policyeval.syntax.formatter import format_pel_checked

    sources = SourceText()
    problems: list[Diagnostic] = []
    changed: list[Path] = []
    for file in _pel_files(paths):
        shown = str(file)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(
                Diagnostic(
                    "PE030", Severity.ERROR, f"cannot read `{shown}`: {exc}", Span(shown, 1, 1)
                )
            )
            continue
        sources.add(shown, text)
        formatted, diagnostics = format_pel_checked(text, shown)
        if formatted is None:
            problems.extend(diagnostics)
            continue
        if formatted != text:
            changed.append(file)
            if not check:
                write_atomically(file, formatted)
    for file in changed:
        verb = "would reformat" if check else "reformatted"
        sys.stdout.write(f"{verb} {file}\n")
    _report(problems, sources)
    if problems:
        return EXIT_ERROR
    return EXIT_CHANGED if check and changed else EXIT_CLEAN


def run_convert(file: Path, to: str | None, policy: str | None, output: Path | None) -> int:
    """`.pel` → JSON or JSON → `.pel`; the direction follows the file unless `to` says."""
    from policyeval.convert import json_to_pel, pel_to_json

    shown = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        sys.stderr.write(f"{shown}:1:1: PE030 error: cannot read file: {exc}\n")
        return EXIT_ERROR
    sources = SourceText()
    sources.add(shown, text)
    target = to or ("json" if file.suffix == ".pel" else "pel")
    if target == "json":
        result, diagnostics = pel_to_json(text, shown, policy)
    else:
        result, diagnostics = json_to_pel(text, shown)
    _report(diagnostics, sources)
    if result is None:
        return EXIT_ERROR
    if output is not None:
        write_atomically(output, result)
    else:
        sys.stdout.write(result)
    return EXIT_CLEAN

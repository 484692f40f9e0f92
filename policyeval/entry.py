"""The console entry point.

`policyeval check` is the pre-commit hook, so it starts without building the typer app
(which costs more than the check itself on a small change): its few options are parsed
here with argparse, and `--help` still goes to the full CLI. `policyeval eval --cases FILE`
skips the app too (a batch is timed start-up included). Every other command runs the
typer app. Unexpected errors become one line and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_ERROR = 2

#: Commands that load and audit a whole estate once per process.
_WHOLE_ESTATE_COMMANDS = frozenset({"audit", "check", "effective", "graph"})


def main() -> None:
    # The CLI has no use for third-party pydantic plugins; looking them up scans every
    # installed package's entry points at start-up.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    argv = sys.argv[1:]
    if argv[:1] and argv[0] in _WHOLE_ESTATE_COMMANDS:
        # One estate per process: no cyclic garbage collection until it ends (a big estate
        # is millions of long-lived objects that every collection walks again; reference
        # counting still frees the rest; peak memory grows by about a third). The library
        # calls pause the collector only while they run (`policyeval/_gc.py`).
        import gc

        gc.disable()
    try:
        if argv[:1] == ["check"] and not {"-h", "--help"} & set(argv):
            sys.exit(_check(argv[1:]))
        cases = _batch_source(argv)
        if cases is not None:
            from policyeval.evalcli import run_cases

            code = run_cases(cases)
            # The interpreter's teardown would free the batch's caches object by object for
            # nothing (~30 ms of a 20,000-case run): leave once everything is flushed.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        from policyeval.cli import app

        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write("policyeval: interrupted\n")
        sys.exit(EXIT_ERROR)
    except Exception as exc:  # the one place internal errors are caught
        if debug:
            raise
        sys.stderr.write(
            f"policyeval: internal error ({type(exc).__name__}): {exc}; "
            "please report this bug (run with --debug for details)\n"
        )
        sys.exit(EXIT_ERROR)


class _Usage(Exception):
    pass


def _batch_source(argv: list[str]) -> str | None:
    """The cases file of `policyeval eval --cases FILE` (or `--cases=FILE`) when that is the
    whole command line: a batch is answered without building the typer app either. Any
    other option goes through the full CLI, which ignores the single-request options in
    batch mode the same way."""
    if len(argv) == 3 and argv[:2] == ["eval", "--cases"]:
        return argv[2]
    if len(argv) == 2 and argv[0] == "eval" and argv[1].startswith("--cases="):
        return argv[1].removeprefix("--cases=")
    return None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _Usage(message)


def _check(argv: list[str]) -> int:
    """`policyeval check [FILES]... [--root DIR] [--fail-on SEV] [--max-file-size N]
    [--allow-outside-imports]`, the same options as the typer command."""
    from policyeval.limits import parse_size

    parser = _Parser(prog="policyeval check", add_help=False)
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--root", type=Path, default=Path("."))
    parser.add_argument("--fail-on", default="high")
    parser.add_argument("--max-file-size")
    parser.add_argument("--allow-outside-imports", action="store_true")
    try:
        options = parser.parse_args(argv)
    except _Usage as exc:
        sys.stderr.write(f"policyeval check: error: {exc}\n")
        return EXIT_ERROR
    max_bytes = None
    if options.max_file_size is not None:
        max_bytes = parse_size(options.max_file_size)
        if max_bytes is None:
            sys.stderr.write(
                f"policyeval check: error: `{options.max_file_size}` is not a size such as 64M\n"
            )
            return EXIT_ERROR
    from policyeval.auditcli import run_check_command

    return run_check_command(
        files=options.files,
        root=options.root,
        fail_on=options.fail_on,
        max_bytes=max_bytes,
        allow_outside=options.allow_outside_imports,
    )

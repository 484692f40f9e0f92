"""The command line: options → library call → renderer → exit code. No logic lives here.

Heavy modules are imported inside each command so that `policyeval check` starts fast.
Exit codes: 0 clean, 1 findings at or above `--fail-on`, 2 usage, input or internal error.
"""

from __future__ import annotations

import sys

import typer

app = typer.Typer(
    name="policyeval",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    help="Evaluate AWS IAM policies as AWS does; tell what each ECS / EKS / Lambda workload can do.",
)

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


# -- commands are defined below, one section per command ---------------------------------


def main() -> None:
    """Entry point: run the app; an unexpected error becomes one line and exit code 2."""
    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    try:
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

"""The command line: options → library call → renderer → exit code. No logic lives here.

Heavy modules are imported inside each command so that `policyeval check` starts fast.
Exit codes: 0 clean, 1 findings at or above `--fail-on`, 2 usage, input or internal error.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="policyeval",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    help="Evaluate AWS IAM policies as AWS does; tell what each workload can really do.",
)

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


# -- commands are defined below, one section per command ---------------------------------


@app.callback()
def _root() -> None:
    """Evaluate AWS IAM policies as AWS does; tell what each ECS / EKS / Lambda workload can do."""


class EvalFormat(StrEnum):
    table = "table"
    json = "json"


# -- eval --------------------------------------------------------------------------------------


@app.command("eval")
def eval_command(
    principal: Annotated[
        str | None, typer.Option(help="principal ARN, service principal or `anonymous`")
    ] = None,
    action: Annotated[str | None, typer.Option(help="the action, e.g. s3:GetObject")] = None,
    resource: Annotated[str | None, typer.Option(help="the resource ARN")] = None,
    context: Annotated[
        list[str] | None,
        typer.Option("--context", "-c", help="KEY=VALUE; repeat a key for several values"),
    ] = None,
    identity: Annotated[
        list[Path] | None,
        typer.Option("--identity", "-i", help="identity policy file (repeatable)"),
    ] = None,
    boundary: Annotated[Path | None, typer.Option(help="permissions boundary file")] = None,
    session: Annotated[Path | None, typer.Option(help="session policy file")] = None,
    resource_policy: Annotated[
        Path | None, typer.Option("--resource-policy", help="resource-based policy file")
    ] = None,
    scp: Annotated[
        list[Path] | None,
        typer.Option(help="SCP file; each use is one organisation level, root first"),
    ] = None,
    rcp: Annotated[
        list[Path] | None,
        typer.Option(help="RCP file; each use is one organisation level, root first"),
    ] = None,
    resource_account: Annotated[
        str | None, typer.Option("--resource-account", help="account that owns the resource")
    ] = None,
    cases: Annotated[
        str | None, typer.Option(help="JSON Lines file of cases, or - for stdin")
    ] = None,
    output_format: Annotated[
        EvalFormat, typer.Option("--format", help="output format")
    ] = EvalFormat.table,
) -> None:
    """Decide one request (with an explanation), or a batch of cases with --cases."""
    from policyeval import evalcli

    if cases is not None:
        raise typer.Exit(evalcli.run_cases(cases))
    code = evalcli.run_one(
        principal=principal,
        action=action,
        resource=resource,
        context=context or [],
        identity=identity or [],
        boundary=boundary,
        session=session,
        resource_policy=resource_policy,
        scps=scp or [],
        rcps=rcp or [],
        resource_account=resource_account,
        as_json=output_format is EvalFormat.json,
    )
    raise typer.Exit(code)


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

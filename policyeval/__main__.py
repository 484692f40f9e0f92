"""`python -m policyeval` runs the CLI."""

from policyeval.cli import main

main()

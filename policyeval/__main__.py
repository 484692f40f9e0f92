"""`python -m policyeval` runs the CLI."""

from policyeval.entry import main

main()

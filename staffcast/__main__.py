"""`python -m staffcast` runs the command line."""

from staffcast.cli import main

main(prog_name="staffcast")

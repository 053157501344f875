"""`python -m sharedground` runs the command line."""

from sharedground.cli import main

main()

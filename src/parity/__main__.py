"""`python -m parity`: the same as the `parity` command."""

from parity.cli.entry import main

main()

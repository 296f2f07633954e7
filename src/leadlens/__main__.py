"""Run the command-line interface with ``python -m leadlens``."""

from leadlens.cli import main

main()

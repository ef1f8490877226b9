"""Lets `python -m wildrydes_mr` run the CLI."""
from wildrydes_mr.cli import main

main()

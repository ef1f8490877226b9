"""The CLI's commands that live outside cli.py (each a click command object that cli.py registers)."""

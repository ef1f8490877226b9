"""Terminal output: progress and plan lines on stderr (rich), results on stdout as text or one JSON object."""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

from rich.console import Console
from rich.markup import escape

from wildrydes_mr.engine import CREATE, DELETE, NOTHING, UPDATE, Action

VERB_STYLES = {CREATE: "green", UPDATE: "yellow", NOTHING: "dim", DELETE: "red"}


class Reporter:
    """Prints progress and actions as they happen; thread-safe, since regions run concurrently."""

    def __init__(self, output: str = "text", quiet: bool = False):
        self.output = output
        self.quiet = quiet
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        self._lock = threading.Lock()

    def progress(self, message: str) -> None:
        if not self.quiet:
            with self._lock:
                self.err.print(f"[dim]…[/dim] {escape(message)}")

    def action(self, action: Action, dry_run: bool) -> None:
        if self.quiet:
            return
        verb = f"would {action.verb}" if dry_run and action.verb != NOTHING else action.verb
        style = VERB_STYLES.get(action.verb, "")
        detail = f" [dim]({escape(action.detail)})[/dim]" if action.detail else ""
        with self._lock:
            self.err.print(f"[{style}]{verb:>15}[/{style}] {escape(action.kind)} {escape(action.name)} "
                           f"[dim]{escape(action.region)}[/dim]{detail}")

    def warn(self, message: str) -> None:
        with self._lock:
            self.err.print(f"[yellow]warning:[/yellow] {escape(message)}")


def render(result: dict[str, Any], output: str) -> None:
    """Prints a command's result: one JSON object, or `key: value` lines for a person."""
    if output == "json":
        sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
        return
    console = Console(highlight=False, soft_wrap=True)
    for key, value in result.items():
        if isinstance(value, dict | list):
            console.print(f"[bold]{escape(key)}[/bold]:")
            console.print_json(json.dumps(value, default=str))
        else:
            console.print(f"[bold]{escape(key)}[/bold]: {escape(str(value))}")


def render_error(message: str, hint: str | None) -> None:
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    console.print(f"[red]error:[/red] {escape(message)}")
    if hint:
        console.print(f"[dim]hint: {escape(hint)}[/dim]")

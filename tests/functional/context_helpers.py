"""Test doubles and a Context factory for functional tests (a plain module: conftest files cannot be imported
reliably when a suite has several)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from fidelity import install as fidelity

from wildrydes_mr import config as config_module
from wildrydes_mr import state as state_module
from wildrydes_mr.aws import Aws
from wildrydes_mr.engine import Context
from wildrydes_mr.targets import Target


class QuietReporter:
    def __init__(self):
        self.lines: list[str] = []

    def progress(self, message: str) -> None:
        self.lines.append(message)

    def action(self, action, dry_run: bool) -> None:
        self.lines.append(f"{action.verb} {action.kind} {action.name}")

    def warn(self, message: str) -> None:
        self.lines.append(f"warning: {message}")


class InstantClock:
    """Waits cost no time: sleeping advances a fake monotonic clock (and the behaviour layer's simulated clock,
    so that what AWS does over time and the product's waits agree on the time)."""

    def __init__(self):
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return 1_700_000_000 + self.t

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        fidelity.sleep(seconds)


def build_context_factory(tmp_path: Path):
    config = dataclasses.replace(config_module.parse("target: aws\n", "test.yaml"))
    state_path = tmp_path / "state.json"

    def build(module: str = "build-api", dry_run: bool = False, cfg=None) -> Context:
        cfg = cfg or config
        state = state_module.load(state_path, cfg.deployment, cfg.target)
        return Context(aws=Aws(clock=InstantClock()), config=cfg, state=state, target=Target(), module=module,
                       dry_run=dry_run, reporter=QuietReporter())
    return build

"""Turns the CLI's global options into a running command: config, state path and lock, target, AWS access.

A command asks for a `run(...)` context manager and gets a ready `engine.Context`; the config is validated
and the state lock taken before any AWS client exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from wildrydes_mr import config as config_module
from wildrydes_mr import state as state_module
from wildrydes_mr.config import Config
from wildrydes_mr.engine import Context
from wildrydes_mr.targets import Target, local_target
from wildrydes_mr.ui import Reporter


@dataclass(frozen=True)
class Options:
    config_path: Path | None
    state_path: Path | None
    target: str | None
    output: str
    debug: bool

    def load_config(self) -> Config:
        return config_module.load(self.config_path).with_target(self.target)

    def state_file(self, config: Config) -> Path:
        return self.state_path or Path(".wildrydes") / f"{config.deployment}.json"

    def state_dir(self, config: Config) -> Path:
        return self.state_file(config).parent


def resolve_target(options: Options, config: Config, reporter: Reporter) -> Target:
    """Real AWS, or the local cloud (started if it is not running)."""
    if config.target == "aws":
        return Target()
    running = start_local_cloud(options, config, reporter.progress)
    return local_target(running.aws_endpoint, running.api_urls, running.site_root, running.dns_urls)


def start_local_cloud(options: Options, config: Config, progress):
    """The local cloud of this state directory, started with the config's clocks, lag and credential lifetime
    unless it already runs (one that runs with other settings is refused)."""
    from wildrydes_mr.local import cloud

    return cloud.up(options.state_dir(config), list(config.regions.both), config.local.time_scale,
                    credential_lifetime=config.local.credential_lifetime,
                    replication_lag_ms=config.local.replication_lag_ms, progress=progress)


@contextmanager
def run(options: Options, module: str, dry_run: bool = False, clock=None, lock: bool = True,
        quiet: bool = False) -> Iterator[Context]:
    """Validated config → lock → state → target → AWS access → a Context for one workflow run. Read-only
    commands (status) pass lock=False: they may look while another command works."""
    config = options.load_config()
    reporter = Reporter(options.output, quiet=quiet)
    state_path = options.state_file(config)
    with state_module.locked(state_path) if lock else nullcontext():
        state = state_module.load(state_path, config.deployment, config.target)
        target = resolve_target(options, config, reporter)
        from wildrydes_mr.aws import Aws

        aws = Aws(target.endpoint, clock=clock)
        yield Context(aws=aws, config=config, state=state, target=target, module=module, dry_run=dry_run,
                      reporter=reporter)

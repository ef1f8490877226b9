"""A plan of steps run as a dependency graph: each step starts the moment every step it needs is done, all ready
steps at once (threads: the work is waiting on AWS), so that long waits overlap wherever the dependencies allow.

A step gets the results of the steps done so far (by name). The first failure stops new steps from starting;
the steps already running finish (each leaves the state file consistent, as every workflow does), then the
failure is raised. With `parallel=False` the steps run one after another in a topological order (the same
plan, for comparison and debugging). Progress names what starts, what finishes, and what still waits on what.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Step:
    name: str
    needs: tuple[str, ...]
    run: Callable[[dict[str, Any]], Any]


def order(steps: list[Step]) -> list[Step]:
    """A topological order (stable: the plan's own order where it is free); refuses unknown needs and cycles."""
    by_name = {step.name: step for step in steps}
    if len(by_name) != len(steps):
        raise ValueError("two steps of the plan have the same name")
    for step in steps:
        unknown = [need for need in step.needs if need not in by_name]
        if unknown:
            raise ValueError(f"step {step.name!r} needs unknown step(s) {unknown}")
    done: list[Step] = []
    placed: set[str] = set()
    while len(done) < len(steps):
        ready = [s for s in steps if s.name not in placed and set(s.needs) <= placed]
        if not ready:
            raise ValueError(f"the plan has a cycle among {sorted(set(by_name) - placed)}")
        done.append(ready[0])
        placed.add(ready[0].name)
    return done


def run(steps: list[Step], progress: Callable[[str], None], parallel: bool = True) -> dict[str, Any]:
    """Runs the plan; returns each step's result by name."""
    ordered = order(steps)
    results: dict[str, Any] = {}
    started_at = time.monotonic()

    def elapsed() -> str:
        return f"+{time.monotonic() - started_at:.0f} s"

    if not parallel:
        for step in ordered:
            progress(f"{elapsed()} {step.name}: starting")
            results[step.name] = step.run(dict(results))
        return results
    pending = list(ordered)
    running: dict[Future, Step] = {}
    failure: BaseException | None = None
    shown: dict[str, tuple[str, ...]] = {}  # what each waiting step was last said to wait on
    with ThreadPoolExecutor(max_workers=len(steps), thread_name_prefix="deploy") as pool:
        while pending or running:
            if failure is None:
                for step in [s for s in pending if set(s.needs) <= results.keys()]:
                    pending.remove(step)
                    progress(f"{elapsed()} {step.name}: starting")
                    running[pool.submit(step.run, dict(results))] = step
            if not running:
                break  # a failure left steps that can never start
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                step = running.pop(future)
                error = future.exception()
                if error is not None:
                    failure = failure or error
                    progress(f"{elapsed()} {step.name}: failed")
                    continue
                results[step.name] = future.result()
                progress(f"{elapsed()} {step.name}: done")
            if failure is None:
                for step in pending:
                    waiting = tuple(need for need in step.needs if need not in results)
                    if waiting and shown.get(step.name) != waiting:
                        shown[step.name] = waiting
                        progress(f"{elapsed()} {step.name}: waits on {', '.join(waiting)}")
    if failure is not None:
        raise failure
    return results

"""Simulated AWS latency: `wildrydes deploy` (one dependency graph) next to the module-by-module sequence
(build-api, build-ui, replicate), each on a fresh local cloud with the tests' AWS behaviour layer answering
"not yet" for as long as AWS would, on a virtual clock (bench/simulated.py).

    .venv/bin/python bench/deploy_graph.py [--output text|json]

Reported: each run's critical path (its virtual duration) against the longest single wait (the slowest
readiness rule that fired: a floor for any deploy), and for `deploy` when each step started and ended.
Target: deploy's critical path ≤ 1.1 × the longest single wait.

The simulated clock keeps a virtual time per thread. The graph runs its steps on pooled threads, so here each
step's thread is set to start at the virtual moment its last need finished (the start it has on AWS), and a
step forks no threads of its own; the product's code is otherwise unchanged.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import simulated  # noqa: E402

import bench  # noqa: E402  (the local cloud, phases, critical paths)

TARGET_RATIO = 1.1


def _timed_plan(clock: simulated.SimulatedClock, timings: dict[str, dict[str, float]], origin: list[float]):
    from wildrydes_mr.graph import Step
    from wildrydes_mr.workflows import deploy

    product_plan = deploy.plan

    def plan(ctx, parallel: bool = True):
        def timed(step: Step) -> Step:
            def run(done: dict[str, Any]) -> Any:
                cell = clock.cell()
                start = max([timings[need]["end_s"] for need in step.needs] or [origin[0]])
                with clock._lock:  # the step starts when its last need ended, whatever this thread did before
                    cell.t = start
                result = step.run(done)
                timings[step.name] = {"start_s": start, "end_s": clock.monotonic()}
                return result
            return Step(step.name, step.needs, run)
        origin[0] = clock.monotonic()
        # Within a step, nothing forks threads of its own (finish awaits the replica, then the records' sync, in
        # its step's thread): the simulated clock forks a new thread from the main thread's time, which is not
        # the step's. The records' propagation started long before, so awaiting it second costs nothing.
        return [timed(step) for step in product_plan(ctx, False)]
    deploy.plan = plan
    return product_plan


def run(args: argparse.Namespace) -> dict[str, Any]:
    from wildrydes_mr.workflows import deploy

    out: dict[str, Any] = {"environment": bench.environment()}
    clock = simulated.SimulatedClock()
    waits = simulated.SimulatedWaits(clock)
    timings: dict[str, dict[str, float]] = {}
    origin = [0.0]
    product_plan = _timed_plan(clock, timings, origin)
    try:
        with bench.local_cloud(args.time_scale) as env:
            phase, _ = bench.run_phase(env["options"], "deploy", deploy, clock, waits)
    finally:
        deploy.plan = product_plan
    graph_path = bench._critical_path(phase, waits, clock, simulated)
    out["deploy"] = {k: graph_path[k] for k in ("critical_path_s", "longest_wait_s", "longest_wait",
                                                 "critical_path_over_longest")}
    out["deploy"]["steps"] = {name: {k: round(v - origin[0], 1) for k, v in t.items()}
                              for name, t in sorted(timings.items(), key=lambda item: item[1]["start_s"])}

    clock = simulated.SimulatedClock()
    waits = simulated.SimulatedWaits(clock)
    with bench.local_cloud(args.time_scale) as env:
        phases = bench.deploy(env["options"], clock=clock, waits=waits, label="simulated")
    modules = {name: p["virtual_seconds"] for name, p in phases.items()}
    longest = max(bench._critical_path(p, waits, clock, simulated)["longest_wait_s"]
                  for name, p in phases.items() if "total" not in name)
    total = modules["simulated full deploy (total)"]
    out["module by module"] = {"phases_virtual_s": modules, "critical_path_s": total, "longest_wait_s": longest,
                               "critical_path_over_longest": round(total / longest, 3) if longest else None}
    out["target"] = {"limit": TARGET_RATIO, "met": (out["deploy"]["critical_path_over_longest"] or 99) <= TARGET_RATIO}
    return out


def main() -> None:
    results = bench.script_results(__doc__, run)
    if results is None:
        return
    d, m = results["deploy"], results["module by module"]
    print(f"deploy:           critical path {d['critical_path_s']:.0f} s, longest wait {d['longest_wait_s']:.0f} s "
          f"({d['longest_wait']}): {d['critical_path_over_longest']:.2f}x "
          f"(target ≤ {TARGET_RATIO}: {'met' if results['target']['met'] else 'MISSED'})")
    print(f"module by module: critical path {m['critical_path_s']:.0f} s, longest wait {m['longest_wait_s']:.0f} s: "
          f"{m['critical_path_over_longest']:.2f}x")
    for name, t in d["steps"].items():
        print(f"  {name:28} {t['start_s']:7.1f} → {t['end_s']:7.1f} s")


if __name__ == "__main__":
    main()

"""Puts the fidelity harness — the contract check and, when asked for, the behaviour layer — in front of every
botocore client of a process: the test process itself (tests/conftest.py) and every `wildrydes` (or local
cloud) process a test starts (through site/sitecustomize.py, driven by the WILDRYDES_FIDELITY variable).

Every botocore Session gets three hooks when it is made; they dispatch to the harness active at call time, so
sessions that outlive one test (boto3's default session) follow the current test's harness.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fidelity.catalogue import build_layer
from fidelity.clock import SimulatedTime
from fidelity.contract import ContractChecker
from fidelity.layer import BehaviourLayer
from fidelity.store import FileStore, MemoryStore

ENVIRONMENT_VARIABLE = "WILDRYDES_FIDELITY"
SITE_DIR = Path(__file__).resolve().parent / "site"
TESTS_DIR = Path(__file__).resolve().parents[1]


@dataclass
class Harness:
    contract: ContractChecker
    layer: BehaviourLayer | None = None


ACTIVE: Harness | None = None
_patched = False


def _on_params(**kwargs: Any) -> None:
    harness = ACTIVE
    if harness is None or (harness.layer is not None and harness.layer.bypassed):
        return
    harness.contract.before_parameter_build(**kwargs)
    if harness.layer is not None:
        harness.layer.remember_params(**kwargs)


def _on_before_call(**kwargs: Any) -> Any:
    harness = ACTIVE
    return harness.layer.before_call(**kwargs) if harness is not None and harness.layer is not None else None


def _on_after_call(**kwargs: Any) -> None:
    harness = ACTIVE
    if harness is not None and harness.layer is not None:
        harness.layer.after_call(**kwargs)


def patch_botocore_sessions() -> None:
    """Every botocore Session made from now on carries the harness's hooks (idempotent)."""
    global _patched
    if _patched:
        return
    # From sys.modules: when sitecustomize calls us, botocore.session has just been executed but is not yet an
    # attribute of the botocore package.
    session_module = sys.modules.get("botocore.session") or importlib.import_module("botocore.session")
    session_class = session_module.Session
    original = session_class.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        _patch_product_clock()
        self.register("before-parameter-build", _on_params, unique_id="fidelity-params")
        # Last, so that the product's call counter (and a test's crash hook) still see a call a rule answers.
        self.get_component("event_emitter").register_last("before-call", _on_before_call,
                                                           unique_id="fidelity-before-call")
        self.register("after-call", _on_after_call, unique_id="fidelity-after-call")

    session_class.__init__ = init
    _patched = True


def activate(harness: Harness | None) -> None:
    global ACTIVE
    patch_botocore_sessions()
    ACTIVE = harness


def in_process(behaviour: bool = True, durations: dict[str, float] | None = None) -> Harness:
    """The harness of one test in this process: contract check, and the behaviour layer on a memory store."""
    layer = None
    if behaviour:
        store = MemoryStore()
        layer = build_layer(store, SimulatedTime(store), durations)
    harness = Harness(ContractChecker(), layer)
    activate(harness)
    return harness


def reset() -> None:
    """Forgets what the active layer remembers (for a test that starts a fresh moto account in the middle)."""
    harness = ACTIVE
    if harness is not None and harness.layer is not None:
        harness.layer.store.clear()


def sleep(seconds: float) -> None:
    """Advances the active layer's simulated clock (what a test's instant clock calls when it sleeps)."""
    harness = ACTIVE
    if harness is not None and harness.layer is not None:
        harness.layer.clock.sleep(seconds)


# --- other processes --------------------------------------------------------------------------------------

def subprocess_environment(contract_log: Path, behaviour_store: Path | None = None,
                           durations: dict[str, float] | None = None) -> dict[str, str]:
    """Variables that put the harness into every Python process started with them: contract violations are
    appended to `contract_log`; with `behaviour_store`, the behaviour layer runs on that shared file and the
    product's clock is the layer's simulated one."""
    paths = [str(SITE_DIR), str(TESTS_DIR)]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    settings = {"contract_log": str(contract_log),
                "behaviour_store": str(behaviour_store) if behaviour_store else None,
                "durations": durations or {}}
    return {"PYTHONPATH": os.pathsep.join(paths), ENVIRONMENT_VARIABLE: json.dumps(settings)}


def from_environment() -> Harness | None:
    """Called by sitecustomize at interpreter start-up: the harness the test asked for, or nothing."""
    raw = os.environ.get(ENVIRONMENT_VARIABLE)
    if not raw:
        return None
    settings = json.loads(raw)
    layer = None
    if settings.get("behaviour_store"):
        store = FileStore(settings["behaviour_store"])
        clock = SimulatedTime(store)
        layer = build_layer(store, clock, settings.get("durations"))
        _simulate_product_clock(clock)
    harness = Harness(ContractChecker(log_path=settings["contract_log"]), layer)
    activate(harness)
    return harness


def _simulate_product_clock(clock: SimulatedTime) -> None:
    """The product's waits (`wildrydes_mr.aws.Clock`) run on the layer's simulated time. botocore, which brought
    us here, may be being imported by wildrydes_mr.aws right now, so the class is patched when the first
    botocore session is made (the product makes its sessions at run time, its module long loaded)."""
    global _product_clock
    _product_clock = clock


_product_clock: SimulatedTime | None = None


def _patch_product_clock() -> None:
    global _product_clock
    clock, aws = _product_clock, sys.modules.get("wildrydes_mr.aws")
    if clock is None or aws is None or not hasattr(aws, "Clock"):
        return
    aws.Clock.now = lambda self: clock.now()
    aws.Clock.monotonic = lambda self: clock.monotonic()
    aws.Clock.sleep = lambda self, seconds: clock.sleep(seconds)
    _product_clock = None


def read_contract_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

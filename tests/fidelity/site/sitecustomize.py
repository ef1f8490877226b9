"""Loaded by every Python process a test starts with fidelity.install.subprocess_environment(): puts the
contract check (and the behaviour layer, when asked for) in front of that process's AWS calls.

Nothing is imported until the process imports botocore itself, so a process that never talks to AWS
(`wildrydes --help`) starts as it would without the harness."""

import importlib.abc
import importlib.util
import os
import sys


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs `callback(module)` right after module `name` has been executed (first import only)."""

    def __init__(self, name, callback):
        self.name, self.callback = name, callback

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        execute, callback = spec.loader.exec_module, self.callback

        def exec_module(module):
            execute(module)
            callback(module)
        spec.loader.exec_module = exec_module
        return spec


def after_import(name, callback):
    if name in sys.modules:
        callback(sys.modules[name])
    else:
        sys.meta_path.insert(0, _AfterImport(name, callback))


def _install(_module):
    from fidelity.install import from_environment

    from_environment()


if os.environ.get("WILDRYDES_FIDELITY"):
    after_import("botocore.session", _install)

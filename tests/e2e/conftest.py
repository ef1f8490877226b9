"""End-to-end fixtures: a local cloud of the test's own."""

from __future__ import annotations

import pytest
from e2e_helpers import wildrydes, wildrydes_json


@pytest.fixture
def local_cloud(tmp_path):
    """A local cloud of this test's own (own directory, own free ports); stopped afterwards."""
    started = wildrydes_json(tmp_path, "local", "up")
    yield tmp_path, started
    wildrydes(tmp_path, "local", "down", check=False)

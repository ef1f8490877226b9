"""End-to-end fixtures: a local cloud of the test's own."""

from __future__ import annotations

import pytest
import requests
from e2e_helpers import wildrydes, wildrydes_json
from moto.server import ThreadedMotoServer


@pytest.fixture
def local_cloud(tmp_path):
    """A local cloud of this test's own (own directory, own free ports); stopped afterwards."""
    started = wildrydes_json(tmp_path, "local", "up")
    yield tmp_path, started
    wildrydes(tmp_path, "local", "down", check=False)


@pytest.fixture
def moto_server():
    """A moto server of this test's own (Lambda without docker): its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    requests.post(f"{endpoint}/moto-api/config", json={"lambda": {"use_docker": False}}, timeout=10)
    yield endpoint
    server.stop()

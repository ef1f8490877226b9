"""Fixtures for functional tests: on moto in-process, a mocked account and a ready engine Context; for the local
cloud's parts that talk HTTP (gateway, DNS plane, replicator), a moto server per test module."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from context_helpers import build_context_factory
from moto import mock_aws
from moto.server import ThreadedMotoServer


@pytest.fixture
def mocked_aws():
    with mock_aws():
        yield


@pytest.fixture
def make_context(tmp_path: Path, mocked_aws, aws_behaviour):
    """Builds a Context on target aws (moto in-process, behind the AWS behaviour layer); each call gets a fresh
    Aws (fresh call counter)."""
    return build_context_factory(tmp_path)


@pytest.fixture(scope="module")
def moto_endpoint():
    """A moto server on a free port of 127.0.0.1 for one test module: its endpoint URL."""
    werkzeug_log = logging.getLogger("werkzeug")
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)  # moto's server logs every call at INFO
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        werkzeug_log.setLevel(level)

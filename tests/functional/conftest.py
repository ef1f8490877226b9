"""Fixtures for functional tests on moto in-process: a mocked account and a ready engine Context."""

from __future__ import annotations

from pathlib import Path

import pytest
from context_helpers import build_context_factory
from moto import mock_aws


@pytest.fixture
def mocked_aws():
    with mock_aws():
        yield


@pytest.fixture
def make_context(tmp_path: Path, mocked_aws):
    """Builds a Context on target aws (moto in-process); each call gets a fresh Aws (fresh call counter)."""
    return build_context_factory(tmp_path)

"""Shared fixtures for contract tests: the stand-ins' Flask app served on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from local.sandbox.app import serve


@pytest.fixture
def sandbox_server() -> Iterator[tuple[str, Flask]]:
    """A fresh sandbox (fresh vendor state) per test: yields (base_url, app), as `local.sandbox.app.serve`."""
    with serve() as server:
        yield server

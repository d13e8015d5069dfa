"""Shared fixtures for contract tests: the stand-ins' Flask app served on a loopback port."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from local.sandbox.app import create_app


@pytest.fixture
def sandbox_server() -> Iterator[tuple[str, Flask]]:
    """A fresh sandbox (fresh vendor state) per test: yields (base_url, app).

    `base_url` has no trailing slash; a vendor lives under `f"{base_url}/{vendor}"`. The app's
    state is `app.extensions["vendors"][vendor]`, its call log `app.extensions["calls"]`,
    its fault injection `app.extensions["faults"]`.
    """
    app = create_app(state_dir=None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A short poll interval keeps shutdown (and so each test) fast.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), name="sandbox-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()

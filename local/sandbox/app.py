"""The stand-ins' server: one Flask app, a blueprint per vendor, a call log and fault injection."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.serving import make_server


@dataclass
class Fault:
    """A canned response served instead of the real one, for the next `times` matching calls."""

    vendor: str
    path_contains: str
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    delay_seconds: float = 0.0
    # "before": answer with the fault and do nothing; "after": do the real work, then answer with the fault
    # (a response lost on the way back, the case idempotency keys exist for).
    when: str = "before"
    # Only calls with this HTTP method (None: any), e.g. a create (POST) on a path a lookup (GET) shares.
    method: str | None = None


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, vendor: str, path: str, method: str = "GET") -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.vendor == vendor and fault.path_contains in path and fault.method in (None, method):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None


class CallLog:
    """Appends one JSON line per vendor call; also kept in memory for tests."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []

    def append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.calls.append(entry)
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(entry, default=str) + "\n")

    def of(self, vendor: str, path_contains: str = "", method: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                c
                for c in self.calls
                if c["vendor"] == vendor and path_contains in c["path"] and (method is None or c["method"] == method)
            ]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()


def _request_payload() -> Any:
    if request.is_json:
        return request.get_json(silent=True)
    if request.form:
        return request.form.to_dict(flat=False)
    raw = request.get_data(as_text=True)
    return raw or None


def create_app(state_dir: Path | None = None) -> Flask:
    from local.sandbox import vendors

    app = Flask("savedesk-sandbox")
    faults = Faults()
    calls = CallLog(state_dir / "calls.jsonl" if state_dir else None)
    app.extensions["faults"] = faults
    app.extensions["calls"] = calls
    app.extensions["vendors"] = {}
    for name, module in vendors.all_vendors().items():
        app.register_blueprint(module.blueprint, url_prefix=f"/{name}")
        app.extensions["vendors"][name] = module.new_state()

    @app.before_request
    def inject_fault() -> Response | None:
        vendor = request.path.strip("/").split("/", 1)[0]
        g.vendor = vendor
        g.fault = None
        fault = faults.take(vendor, request.path, request.method)
        if fault is None:
            return None
        if fault.delay_seconds:
            time.sleep(fault.delay_seconds)
        if fault.when == "after":
            g.fault = fault
            return None
        return _fault_response(fault)

    @app.after_request
    def log_call(response: Response) -> Response:
        fault = g.get("fault")
        if fault is not None:
            response = _fault_response(fault)
        body: Any = None
        if response.is_json:
            body = response.get_json(silent=True)
        calls.append(
            {
                "ts": time.time(),
                "vendor": g.get("vendor", "?"),
                "method": request.method,
                "path": request.path,
                "query": request.args.to_dict(flat=False),
                "headers": {k: v for k, v in request.headers.items() if k.lower() in _LOGGED_HEADERS},
                "request": _request_payload(),
                "status": response.status_code,
                "response": body,
            }
        )
        return response

    return app


_LOGGED_HEADERS = {"idempotency-key", "stripe-version", "content-type"}


def _fault_response(fault: Fault) -> Response:
    response = jsonify(fault.body) if not isinstance(fault.body, str) else Response(fault.body)
    response.status_code = fault.status
    for key, value in fault.headers.items():
        response.headers[key] = value
    return response


@contextmanager
def serve(state_dir: Path | None = None) -> Iterator[tuple[str, Flask]]:
    """A fresh sandbox (fresh vendor state) on a free loopback port: yields (base_url, app).

    `base_url` has no trailing slash; a vendor lives under `f"{base_url}/{vendor}"`. The app's
    state is `app.extensions["vendors"][vendor]`, its call log `app.extensions["calls"]`,
    its fault injection `app.extensions["faults"]`.
    """
    app = create_app(state_dir)
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


def reset(app: Flask) -> None:
    """Fresh seeded state for every vendor, no faults, an empty call log (between tests)."""
    from local.sandbox import vendors

    for name, module in vendors.all_vendors().items():
        app.extensions["vendors"][name] = module.new_state()
    app.extensions["faults"].clear()
    app.extensions["calls"].clear()


def vendor_state(name: str) -> Any:
    """The in-memory state of one vendor, for the blueprint handling the current request."""
    from flask import current_app

    return current_app.extensions["vendors"][name]

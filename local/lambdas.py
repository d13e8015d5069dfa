"""The project's handlers, run in-process as moto's Lambda backend.

moto's `awslambda_simple` backend answers every invoke with a canned payload; here its
`invoke` imports the function's module from CodeUri/Handler (as template.yaml says) and
calls it with a Lambda context, so Step Functions' Retry/Catch see our real errors.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local.template import Function

log = logging.getLogger("local.lambda")


@dataclass
class LambdaContext:
    """The attributes Powertools and our code read from a real Lambda context."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 512
    timeout_seconds: float = 30.0
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


class InProcessLambdas:
    def __init__(self, functions: dict[str, Function], timeouts: dict[str, float]) -> None:
        self.functions = {f.name: f for f in functions.values()}
        self.timeouts = timeouts
        self._handlers: dict[str, Callable[[dict[str, Any], Any], Any]] = {}
        self._lock = threading.Lock()
        self.invocations: list[dict[str, Any]] = []

    def handler(self, name: str) -> Callable[[dict[str, Any], Any], Any]:
        with self._lock:
            if name not in self._handlers:
                fn = self.functions[name]
                path = fn.code_dir / f"{fn.module.replace('.', '/')}.py"
                spec = importlib.util.spec_from_file_location(f"savedesk_function_{fn.logical_id}", path)
                if spec is None or spec.loader is None:
                    raise ImportError(f"cannot load {path}")
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                self._handlers[name] = getattr(module, fn.attribute)
            return self._handlers[name]

    def context(self, name: str) -> LambdaContext:
        fn = self.functions[name]
        return LambdaContext(
            function_name=name, invoked_function_arn=fn.arn, timeout_seconds=self.timeouts[fn.logical_id]
        )

    def invoke(self, name: str, event: Any) -> tuple[Any, str | None]:
        """Call the handler; return (payload, error type or None) as Lambda would report them."""
        name = name.split(":")[6] if name.startswith("arn:") else name
        record: dict[str, Any] = {"function": name, "event": event, "at": time.time()}
        self.invocations.append(record)
        try:
            result = self.handler(name)(event, self.context(name))
        except Exception as exc:  # noqa: BLE001 - Lambda reports any exception as a function error
            # What Lambda's runtime would write to CloudWatch.
            log.warning("%s raised %s: %s", name, type(exc).__name__, exc, exc_info=exc)
            record["error"] = type(exc).__name__
            return {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_exception(exc)[-5:],
            }, type(exc).__name__
        return result, None

    def install_into_moto(self) -> None:
        from moto.awslambda_simple.models import LambdaSimpleBackend

        runtime = self

        def invoke(
            backend: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
        ) -> bytes:
            event = json.loads(body) if body else {}
            payload, error = runtime.invoke(function_name, event)
            if error is not None:
                response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(payload, default=str).encode()

        LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign,assignment]

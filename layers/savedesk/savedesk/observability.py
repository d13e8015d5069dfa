"""The only Logger, Tracer and Metrics instances; everything imports these."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def log_metrics(handler: Handler) -> Handler:
    """`metrics.log_metrics` for handlers that record a metric only sometimes.

    Most invocations record none (a duplicate delivery, most checklist steps), and Powertools
    warns about every empty flush; this publishes (EMF on stdout) only when there is something.
    """

    @functools.wraps(handler)
    def publishing(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return handler(event, context)
        finally:
            if metrics.metric_set:
                metrics.flush_metrics()
            # Disabled metrics (the local stack) are kept by flush_metrics; each invocation starts afresh.
            metrics.clear_metrics()

    return publishing


def __getattr__(name: str) -> Any:
    # The Tracer is built on first use: creating it imports the X-Ray SDK, whose recorder builds
    # botocore clients at import time, the largest single cost of a cold start (docs/benchmarks.md).
    # No handler traces today, so none pays for it.
    if name == "tracer":
        from aws_lambda_powertools import Tracer

        tracer = Tracer()
        globals()["tracer"] = tracer
        return tracer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

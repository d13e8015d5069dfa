"""The one place that turns HTTP outcomes into SaveDesk's error classes.

Every vendor client sends through `send()`: a timeout on every call, 429s honoured when
the wait fits in the time budget (otherwise handed to the workflow's Retry as a
TransientError), 5xx and network faults transient, other 4xx permanent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from savedesk.errors import PermanentError, RateLimited, TransientError, VendorError

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
# Longest wait for a rate limit inside one invocation; longer waits go back to Step Functions.
MAX_IN_PROCESS_WAIT_SECONDS = 20.0


def retry_after_seconds(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds to wait, from `Retry-After` (seconds) or `X-RateLimit-Reset` (Unix seconds)."""
    header = response.headers.get("Retry-After")
    if header is not None:
        try:
            return max(0.0, float(header))
        except ValueError:
            return None
    reset = response.headers.get("X-RateLimit-Reset")
    if reset is not None:
        try:
            return max(0.0, float(reset) - (now if now is not None else time.time()))
        except ValueError:
            return None
    return None


def send(
    client: httpx.Client,
    request: httpx.Request,
    *,
    vendor: str,
    budget_seconds: Callable[[], float] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_rate_limit_waits: int = 2,
) -> httpx.Response:
    """Send `request`; return the response for 2xx and non-429 4xx; raise for the rest.

    `budget_seconds` tells how much time is left (the Lambda's remaining time less a margin);
    a rate-limit wait that does not fit is raised as TransientError(retry_after=...).
    """
    waits = 0
    while True:
        try:
            response = client.send(request)
        except httpx.TimeoutException as exc:
            raise TransientError(f"{vendor}: timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"{vendor}: network error ({type(exc).__name__})") from exc
        if response.status_code == 429:
            wait = retry_after_seconds(response)
            budget = budget_seconds() if budget_seconds else MAX_IN_PROCESS_WAIT_SECONDS
            if wait is not None and waits < max_rate_limit_waits and wait <= min(budget, MAX_IN_PROCESS_WAIT_SECONDS):
                waits += 1
                sleep(wait)
                continue
            raise RateLimited(f"{vendor}: rate limited (429)", retry_after=wait)
        if response.status_code >= 500:
            raise TransientError(f"{vendor}: server error {response.status_code}")
        return response


def require_json(response: httpx.Response, *, vendor: str) -> dict:
    """The response's JSON object; a malformed body is the vendor's fault and worth a retry."""
    try:
        body = response.json()
    except ValueError as exc:
        raise TransientError(f"{vendor}: malformed response (not JSON), status {response.status_code}") from exc
    if not isinstance(body, dict):
        raise TransientError(f"{vendor}: malformed response (not an object), status {response.status_code}")
    return body


def permanent(vendor: str, response: httpx.Response, detail: str) -> PermanentError:
    return PermanentError(f"{vendor}: {response.status_code} {detail}")


def json_request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    json_body: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Request:
    """A request with `json_body` as UTF-8 JSON; Content-Type is set unless the caller chose one."""
    content = None
    if json_body is not None:
        content = json.dumps(json_body).encode("utf-8")
        headers = {"Content-Type": "application/json", **headers}
    return client.build_request(method, url, params=params, content=content, headers=headers)


def call_json(
    client: httpx.Client,
    request: httpx.Request,
    *,
    vendor: str,
    describe_error: Callable[[httpx.Response], str],
    budget_seconds: Callable[[], float] | None = None,
) -> dict[str, Any]:
    """Send a REST call: the JSON object of a 2xx, VendorError(describe_error(response)) for other 4xx."""
    response = send(client, request, vendor=vendor, budget_seconds=budget_seconds)
    if response.is_success:
        return require_json(response, vendor=vendor)
    raise VendorError(describe_error(response))

"""Signed webhook deliveries to the local HTTP API, as HubSpot, a Standard-Webhooks CRM or Typeform sends them,
and `wait_for`, to poll the local stack until something happened.

Used by the demo, the tests and the benchmark; the README's curl examples do the same by hand.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from local.stack import local_secrets
from savedesk.integrations.signatures import sign_hubspot_v3, sign_standard_webhook, sign_typeform

TIMEOUT = 30.0


def _raw(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


def hubspot_headers(
    url: str, body: bytes, *, secret: str | None = None, timestamp_ms: int | None = None, method: str = "POST"
) -> dict[str, str]:
    ts = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    secret = secret or local_secrets()["HUBSPOT_CLIENT_SECRET"]
    return {
        "content-type": "application/json",
        "x-hubspot-request-timestamp": ts,
        "x-hubspot-signature-v3": sign_hubspot_v3(secret, method, url, body, ts),
    }


def standard_headers(
    body: bytes, *, secret: str | None = None, msg_id: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = timestamp if timestamp is not None else int(time.time())
    secret = secret or local_secrets()["SAVEDESK_WEBHOOK_SECRET"]
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_standard_webhook(secret, msg_id, timestamp, body),
    }


def send_hubspot(api_url: str, payload: Any, **sign: Any) -> httpx.Response:
    url = api_url + "/webhooks/crm/hubspot"
    body = _raw(payload)
    return httpx.post(url, content=body, headers=hubspot_headers(url, body, **sign), timeout=TIMEOUT)


def send_standard(api_url: str, path: str, payload: Any, **sign: Any) -> httpx.Response:
    body = _raw(payload)
    return httpx.post(api_url + path, content=body, headers=standard_headers(body, **sign), timeout=TIMEOUT)


def send_typeform(api_url: str, payload: Any, *, secret: str | None = None) -> httpx.Response:
    body = _raw(payload)
    headers = {
        "content-type": "application/json",
        "typeform-signature": sign_typeform(secret or local_secrets()["TYPEFORM_SECRET"], body),
    }
    return httpx.post(api_url + "/webhooks/forms/typeform", content=body, headers=headers, timeout=TIMEOUT)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Call `predicate` every `interval` seconds until it returns something truthy, and return that.

    Raises TimeoutError naming `what` after `timeout` seconds; the caller decides what that means
    (the demo and the benchmark exit with it, the tests fail with it).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")

"""ToplineClient against a mocked wire (respx): what it sends, how it maps errors, the read-back check."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from savedesk.errors import PermanentError, TransientError, VendorError
from savedesk.integrations.topline import ToplineClient

BASE = "https://topline.test/api"


def account(status: str = "active", users_active: bool | None = None, connected: bool | None = None) -> dict[str, Any]:
    off = status == "deactivated"
    users_active = (not off) if users_active is None else users_active
    connected = (not off) if connected is None else connected
    return {
        "id": "tl_1",
        "name": "Acme Dental Group",
        "status": status,
        "users": [
            {"id": "usr_1", "email": "dana@acme-dental.example", "role": "owner", "active": users_active},
            {"id": "usr_2", "email": "ops@acme-dental.example", "role": "viewer", "active": False},
        ],
        "integrations": [{"name": "google_ads", "connected": connected}, {"name": "ga4", "connected": False}],
        "deactivated_at": "2026-11-26T09:30:00Z" if off else None,
        "some_future_field": {"ignored": True},
    }


@pytest.fixture
def client() -> ToplineClient:
    return ToplineClient(BASE, "tl_key", http=httpx.Client(timeout=2), budget_seconds=lambda: 30.0)


@pytest.fixture
def api():
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


def test_get_account_sends_the_key_and_parses(client: ToplineClient, api: respx.MockRouter) -> None:
    route = api.get("/v1/accounts/tl_1").respond(200, json=account())
    acct = client.get_account("tl_1")
    assert route.calls.last.request.headers["Authorization"] == "Bearer tl_key"
    assert acct.status == "active" and len(acct.users) == 2 and not acct.access_revoked
    assert acct.remaining_access() == ["status=active", "user dana@acme-dental.example", "integration google_ads"]


def test_deactivate_sends_body_and_idempotency_key(client: ToplineClient, api: respx.MockRouter) -> None:
    route = api.post("/v1/accounts/tl_1/deactivate").respond(200, json=account("deactivated"))
    acct = client.deactivate(
        "tl_1", "client cancelled", "savedesk", "topline-deactivate:case-1", datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    )
    request = route.calls.last.request
    assert request.headers["Idempotency-Key"] == "topline-deactivate:case-1"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "reason": "client cancelled",
        "requested_by": "savedesk",
        "effective_at": "2026-11-26T09:30:00Z",
    }
    assert acct.access_revoked and acct.deactivated_at == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def test_revoke_and_verify_reads_back(client: ToplineClient, api: respx.MockRouter) -> None:
    api.post("/v1/accounts/tl_1/deactivate").respond(200, json=account("deactivated"))
    read = api.get("/v1/accounts/tl_1").respond(200, json=account("deactivated"))
    assert client.revoke_and_verify("tl_1", "r", "savedesk", "k").access_revoked
    assert read.called


@pytest.mark.parametrize(
    ("readback", "left"),
    [
        (account("active"), "status=active"),
        (account("deactivated", users_active=True), "user dana@acme-dental.example"),
        (account("deactivated", connected=True), "integration google_ads"),
    ],
)
def test_revoke_and_verify_fails_when_anything_is_left(
    client: ToplineClient, api: respx.MockRouter, readback: dict[str, Any], left: str
) -> None:
    api.post("/v1/accounts/tl_1/deactivate").respond(200, json=account("deactivated"))
    api.get("/v1/accounts/tl_1").respond(200, json=readback)
    with pytest.raises(VendorError, match="account still active after deactivate") as caught:
        client.revoke_and_verify("tl_1", "r", "savedesk", "k")
    assert left in str(caught.value)


def test_429_with_retry_after_is_waited_out_when_it_fits(api: respx.MockRouter) -> None:
    client = ToplineClient(BASE, "tl_key", http=httpx.Client(timeout=2))
    route = api.get("/v1/accounts/tl_1").mock(
        side_effect=[
            httpx.Response(
                429, json={"error": {"code": "rate_limited", "message": "slow down"}}, headers={"Retry-After": "0"}
            ),
            httpx.Response(200, json=account()),
        ]
    )
    assert client.get_account("tl_1").id == "tl_1"
    assert route.call_count == 2


def test_429_beyond_the_budget_is_transient_with_retry_after(api: respx.MockRouter) -> None:
    client = ToplineClient(BASE, "tl_key", http=httpx.Client(timeout=2), budget_seconds=lambda: 1.0)
    api.get("/v1/accounts/tl_1").respond(
        429, json={"error": {"code": "rate_limited", "message": "slow down"}}, headers={"Retry-After": "30"}
    )
    with pytest.raises(TransientError) as caught:
        client.get_account("tl_1")
    assert caught.value.retry_after == 30.0


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(client: ToplineClient, api: respx.MockRouter, status: int) -> None:
    api.post("/v1/accounts/tl_1/deactivate").respond(status, json={"error": {"code": "internal_error", "message": "x"}})
    with pytest.raises(TransientError):
        client.deactivate("tl_1", "r", "savedesk", "k")


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow"), httpx.ConnectError("down")])
def test_timeouts_are_transient(client: ToplineClient, api: respx.MockRouter, exc: Exception) -> None:
    api.get("/v1/accounts/tl_1").mock(side_effect=exc)
    with pytest.raises(TransientError):
        client.get_account("tl_1")


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, json={"id": "tl_1", "status": "paused"}),
    ],
)
def test_malformed_responses_are_transient(
    client: ToplineClient, api: respx.MockRouter, response: httpx.Response
) -> None:
    api.get("/v1/accounts/tl_1").mock(return_value=response)
    with pytest.raises(TransientError):
        client.get_account("tl_1")


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (401, "unauthorized"),
        (404, "account_not_found"),
        (409, "idempotency_key_reused"),
        (422, "validation_error"),
    ],
)
def test_client_errors_are_permanent(client: ToplineClient, api: respx.MockRouter, status: int, code: str) -> None:
    api.post("/v1/accounts/tl_1/deactivate").respond(status, json={"error": {"code": code, "message": "no"}})
    with pytest.raises(VendorError, match=code) as caught:
        client.deactivate("tl_1", "r", "savedesk", "k")
    assert isinstance(caught.value, PermanentError) and str(status) in str(caught.value)


def test_an_error_without_the_envelope_is_still_reported(client: ToplineClient, api: respx.MockRouter) -> None:
    api.get("/v1/accounts/tl_1").respond(401, text="Unauthorized")
    with pytest.raises(VendorError, match="401 Unauthorized"):
        client.get_account("tl_1")

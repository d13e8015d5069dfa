"""The real ToplineClient against the Topline stand-in: the contract in docs/topline-admin-api.md."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from flask import Flask

from local.sandbox import topline as stand_in
from local.sandbox.app import Fault
from savedesk.errors import PermanentError, TransientError, VendorError
from savedesk.integrations.topline import ToplineClient

ACCOUNT = "tl_acme_001"


@pytest.fixture
def topline_url(sandbox_server: tuple[str, Flask]) -> str:
    return f"{sandbox_server[0]}/topline"


@pytest.fixture
def app(sandbox_server: tuple[str, Flask]) -> Flask:
    return sandbox_server[1]


@pytest.fixture
def client(topline_url: str) -> ToplineClient:
    return ToplineClient(topline_url, stand_in.API_KEY, budget_seconds=lambda: 5.0)


def state(app: Flask) -> stand_in.ToplineState:
    return app.extensions["vendors"]["topline"]


def test_seed_is_the_demo_account(client: ToplineClient) -> None:
    account = client.get_account(ACCOUNT)
    assert (account.name, account.status, account.deactivated_at) == ("Acme Dental Group", "active", None)
    assert len(account.users) == 3 and all(u.active for u in account.users)
    assert {i.name for i in account.integrations if i.connected} == {"google_ads", "meta_ads", "ga4"}


def test_revoke_and_verify_switches_everything_off(client: ToplineClient, app: Flask) -> None:
    account = client.revoke_and_verify(ACCOUNT, "client cancelled (case c1)", "savedesk", "topline-deactivate:c1")
    assert account.access_revoked and account.deactivated_at is not None
    assert state(app).api_keys[ACCOUNT] == 0 and state(app).revoked_api_keys[ACCOUNT] == 2
    calls = app.extensions["calls"].of("topline")
    assert [(c["method"], c["path"]) for c in calls] == [
        ("POST", f"/topline/v1/accounts/{ACCOUNT}/deactivate"),
        ("GET", f"/topline/v1/accounts/{ACCOUNT}"),
    ]
    assert calls[0]["headers"]["Idempotency-Key"] == "topline-deactivate:c1"


def test_repeating_deactivate_returns_the_same_result(client: ToplineClient, app: Flask) -> None:
    first = client.deactivate(ACCOUNT, "r", "savedesk", "k1")
    again = client.deactivate(ACCOUNT, "r", "savedesk", "k1")
    other_key = client.deactivate(ACCOUNT, "again", "ops@topline-agency.example", "k2")
    assert first == again == other_key
    assert len(state(app).audit) == 1


def test_effective_at_is_recorded(client: ToplineClient) -> None:
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    assert client.deactivate(ACCOUNT, "r", "savedesk", "k", effective_at=when).deactivated_at == when


def test_same_key_other_body_is_a_conflict(client: ToplineClient, topline_url: str) -> None:
    client.deactivate(ACCOUNT, "r", "savedesk", "k1")
    response = httpx.post(
        f"{topline_url}/v1/accounts/{ACCOUNT}/deactivate",
        json={"reason": "something else", "requested_by": "savedesk"},
        headers={"Authorization": f"Bearer {stand_in.API_KEY}", "Idempotency-Key": "k1"},
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "idempotency_key_reused"
    with pytest.raises(VendorError, match="409 idempotency_key_reused"):
        client.deactivate(ACCOUNT, "something else", "savedesk", "k1")


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({"requested_by": "savedesk"}, {"Idempotency-Key": "k"}),
        ({"reason": "r", "requested_by": ""}, {"Idempotency-Key": "k"}),
        ({"reason": "r", "requested_by": "savedesk", "effective_at": "yesterday"}, {"Idempotency-Key": "k"}),
        ({"reason": "r", "requested_by": "savedesk", "effective_at": "2999-01-01T00:00:00Z"}, {"Idempotency-Key": "k"}),
        ({"reason": "r", "requested_by": "savedesk"}, {}),
    ],
)
def test_invalid_requests_are_422(topline_url: str, body: dict[str, str], headers: dict[str, str]) -> None:
    response = httpx.post(
        f"{topline_url}/v1/accounts/{ACCOUNT}/deactivate",
        json=body,
        headers={"Authorization": f"Bearer {stand_in.API_KEY}", **headers},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {stand_in.API_KEY}", stand_in.API_KEY])
def test_missing_or_wrong_auth_is_401(topline_url: str, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(f"{topline_url}/v1/accounts/{ACCOUNT}", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "unauthorized", "message": "Missing or invalid admin key"}}


def test_wrong_key_is_permanent_for_the_client(topline_url: str) -> None:
    with pytest.raises(PermanentError, match="401 unauthorized"):
        ToplineClient(topline_url, "tl_expired").get_account(ACCOUNT)


def test_unknown_account_is_404(client: ToplineClient) -> None:
    with pytest.raises(VendorError, match="404 account_not_found"):
        client.revoke_and_verify("tl_nope", "r", "savedesk", "k")


def test_rate_limit_and_outage_are_transient(client: ToplineClient, app: Flask) -> None:
    faults = app.extensions["faults"]
    faults.add(
        Fault(
            "topline",
            "/deactivate",
            429,
            {"error": {"code": "rate_limited", "message": "slow"}},
            headers={"Retry-After": "60"},
        )
    )
    with pytest.raises(TransientError) as caught:
        client.deactivate(ACCOUNT, "r", "savedesk", "k")
    assert caught.value.retry_after == 60.0
    faults.add(Fault("topline", "/deactivate", 503, {"error": {"code": "internal_error", "message": "down"}}))
    with pytest.raises(TransientError):
        client.deactivate(ACCOUNT, "r", "savedesk", "k")
    assert client.revoke_and_verify(ACCOUNT, "r", "savedesk", "k").access_revoked


def test_a_lost_response_is_safe_to_retry(client: ToplineClient, app: Flask) -> None:
    app.extensions["faults"].add(
        Fault("topline", "/deactivate", 502, {"error": {"code": "internal_error", "message": "lost"}}, when="after")
    )
    with pytest.raises(TransientError):
        client.revoke_and_verify(ACCOUNT, "r", "savedesk", "k")
    assert client.revoke_and_verify(ACCOUNT, "r", "savedesk", "k").access_revoked
    assert len(state(app).audit) == 1


def test_a_partial_deactivation_fails_verification(client: ToplineClient, app: Flask) -> None:
    client.deactivate(ACCOUNT, "r", "savedesk", "k")
    # Someone reconnects Meta in Topline after the deactivation (or Topline's disconnect failed).
    state(app).accounts[ACCOUNT]["integrations"][1]["connected"] = True
    with pytest.raises(VendorError, match="integration meta_ads"):
        client.revoke_and_verify(ACCOUNT, "r", "savedesk", "k")

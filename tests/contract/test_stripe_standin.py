"""The real BillingClient (official SDK) against the Stripe stand-in, and the stand-in's wire shapes."""

from __future__ import annotations

import base64
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from flask import Flask

from local.sandbox import stripe as stand_in
from local.sandbox.app import Fault
from savedesk.errors import PermanentError, TransientError, VendorError
from savedesk.integrations.billing import BillingClient

KEY = stand_in.API_KEY
CUSTOMER = "cus_AcmeDental01"
SUBSCRIPTION = "sub_AcmeRetainer01"


@pytest.fixture
def stripe_url(sandbox_server: tuple[str, Flask]) -> str:
    return f"{sandbox_server[0]}/stripe"


@pytest.fixture
def app(sandbox_server: tuple[str, Flask]) -> Flask:
    return sandbox_server[1]


@pytest.fixture
def billing(stripe_url: str) -> BillingClient:
    return BillingClient(KEY, stripe_url, timeout=5)


@pytest.fixture
def raw(stripe_url: str) -> httpx.Client:
    """Plain HTTP against the stand-in, for checking the wire format itself."""
    return httpx.Client(base_url=stripe_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=5)


def state(app: Flask) -> stand_in.StripeState:
    return app.extensions["vendors"]["stripe"]


# ---------------------------------------------------------------------- seed and shapes


def test_seed_matches_the_demo_client(billing: BillingClient) -> None:
    [sub] = billing.active_subscriptions(CUSTOMER)
    assert (sub.id, sub.status, sub.amount, sub.currency) == (SUBSCRIPTION, "active", 400000, "usd")
    assert sub.current_period_end > datetime.now(UTC).date()
    [invoice] = billing.open_invoices(CUSTOMER)
    assert invoice.amount_remaining == 120000 and invoice.hosted_invoice_url
    [payment] = billing.refundable_payments(CUSTOMER)
    assert (payment.payment_intent, payment.amount, payment.amount_refunded) == ("pi_AcmePaid01", 400000, 0)


@pytest.mark.parametrize("today", [date(2026, 1, 31), date(2026, 2, 28), date(2026, 12, 31), date(2027, 7, 1)])
def test_the_current_period_contains_today_on_any_day(today: date) -> None:
    sub = stand_in.new_state(today).subscriptions[SUBSCRIPTION]
    item = sub["items"]["data"][0]
    noon = int(datetime(today.year, today.month, today.day, 12, tzinfo=UTC).timestamp())
    assert item["current_period_start"] <= noon < item["current_period_end"]
    assert sub["start_date"] <= item["current_period_start"]


def test_subscription_has_the_basil_shape(raw: httpx.Client) -> None:
    response = raw.get(f"/v1/subscriptions/{SUBSCRIPTION}")
    assert response.status_code == 200
    sub = response.json()
    assert sub["object"] == "subscription" and sub["id"].startswith("sub_") and sub["customer"].startswith("cus_")
    # Basil: the period lives on the items, not on the subscription.
    assert "current_period_end" not in sub
    items = sub["items"]
    assert items["object"] == "list" and items["data"][0]["object"] == "subscription_item"
    assert {"current_period_start", "current_period_end", "price"} <= items["data"][0].keys()
    assert items["data"][0]["price"]["unit_amount"] == 400000
    assert response.headers["Stripe-Version"] == "2025-03-31.basil"
    assert response.headers["Request-Id"].startswith("req_")


def test_invoice_list_has_the_envelope_and_the_basil_parent(raw: httpx.Client) -> None:
    body = raw.get("/v1/invoices", params={"customer": CUSTOMER}).json()
    assert {"object", "url", "has_more", "data"} <= body.keys()
    assert (body["object"], body["url"], body["has_more"]) == ("list", "/v1/invoices", False)
    created = [i["created"] for i in body["data"]]
    assert created == sorted(created, reverse=True), "newest first"
    assert all(i["id"].startswith("in_") and i["object"] == "invoice" for i in body["data"])
    paid = next(i for i in body["data"] if i["status"] == "paid")
    assert paid["parent"]["subscription_details"]["subscription"] == SUBSCRIPTION
    assert "subscription" not in paid and "payment_intent" not in paid


def test_customer_and_payment_intent_shapes(raw: httpx.Client) -> None:
    customer = raw.get(f"/v1/customers/{CUSTOMER}").json()
    assert customer["object"] == "customer" and customer["id"] == CUSTOMER
    intents = raw.get("/v1/payment_intents", params={"customer": CUSTOMER, "expand[]": "data.latest_charge"}).json()
    [intent] = intents["data"]
    assert intent["id"].startswith("pi_") and intent["latest_charge"]["object"] == "charge"
    unexpanded = raw.get("/v1/payment_intents", params={"customer": CUSTOMER}).json()["data"][0]
    assert unexpanded["latest_charge"].startswith("ch_")


def test_hosted_invoice_page_serves_without_auth(billing: BillingClient) -> None:
    [invoice] = billing.open_invoices(CUSTOMER)
    assert invoice.hosted_invoice_url
    page = httpx.get(invoice.hosted_invoice_url)
    assert page.status_code == 200 and "1,200.00 USD" in page.text


def test_the_client_pins_the_version_on_the_wire(billing: BillingClient, app: Flask) -> None:
    billing.active_subscriptions(CUSTOMER)
    assert state(app).versions_seen == ["2025-03-31.basil"]
    [call] = app.extensions["calls"].of("stripe", "/v1/subscriptions")
    assert call["headers"]["Stripe-Version"] == "2025-03-31.basil"


# ---------------------------------------------------------------------- auth and errors


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert {"type", "message"} <= body["error"].keys()
    return body["error"]


def test_missing_or_wrong_key_is_401(stripe_url: str) -> None:
    missing = httpx.get(f"{stripe_url}/v1/customers/{CUSTOMER}")
    assert missing.status_code == 401 and error_of(missing)["type"] == "invalid_request_error"
    wrong = httpx.get(f"{stripe_url}/v1/customers/{CUSTOMER}", headers={"Authorization": "Bearer sk_test_nope"})
    assert wrong.status_code == 401 and "Invalid API Key" in error_of(wrong)["message"]


def test_basic_auth_with_the_key_as_username_works(stripe_url: str) -> None:
    token = base64.b64encode(f"{KEY}:".encode()).decode()
    response = httpx.get(f"{stripe_url}/v1/customers/{CUSTOMER}", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 200


def test_expired_key_is_a_permanent_error(stripe_url: str) -> None:
    expired = BillingClient(stand_in.EXPIRED_API_KEY, stripe_url, timeout=5)
    with pytest.raises(PermanentError, match="api_key_expired"):
        expired.active_subscriptions(CUSTOMER)


def test_missing_object_has_the_error_envelope(raw: httpx.Client, billing: BillingClient) -> None:
    response = raw.get("/v1/subscriptions/sub_missing")
    assert response.status_code == 404
    error = error_of(response)
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", "resource_missing", "id")
    assert error["doc_url"].startswith("https://stripe.com/docs/error-codes/")
    with pytest.raises(VendorError, match="resource_missing"):
        billing.subscription("sub_missing")


def test_unknown_route_is_a_stripe_shaped_404(raw: httpx.Client) -> None:
    response = raw.get("/v1/nothing_here")
    assert response.status_code == 404 and "Unrecognized request URL" in error_of(response)["message"]


def test_rate_limit_and_server_errors_are_transient(billing: BillingClient, app: Flask) -> None:
    faults = app.extensions["faults"]
    faults.add(
        Fault(
            "stripe",
            "/v1/invoices",
            429,
            {"error": {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests"}},
        )
    )
    with pytest.raises(TransientError):
        billing.open_invoices(CUSTOMER)
    faults.add(Fault("stripe", "/v1/invoices", 503, {"error": {"type": "api_error", "message": "Unavailable"}}))
    with pytest.raises(TransientError):
        billing.open_invoices(CUSTOMER)
    assert len(billing.open_invoices(CUSTOMER)) == 1


# ---------------------------------------------------------------------- billing stop


def test_stop_billing_at_period_end(billing: BillingClient, raw: httpx.Client) -> None:
    sub = billing.stop_billing(
        SUBSCRIPTION, None, "stop:case-1", comment="Budget cuts", feedback="too_expensive", metadata={"case_id": "c1"}
    )
    assert sub.status == "active" and sub.cancel_at_period_end and sub.cancel_at == sub.current_period_end
    wire = raw.get(f"/v1/subscriptions/{SUBSCRIPTION}").json()
    assert wire["cancellation_details"] == {
        "comment": "Budget cuts",
        "feedback": "too_expensive",
        "reason": "cancellation_requested",
    }
    assert wire["metadata"] == {"case_id": "c1"}


def test_stop_billing_at_a_date(billing: BillingClient) -> None:
    at = datetime.now(UTC).date() + timedelta(days=45)
    sub = billing.stop_billing(SUBSCRIPTION, at, "stop:case-2")
    assert sub.cancel_at == at and not sub.cancel_at_period_end


def test_stop_billing_is_safe_to_rerun(billing: BillingClient, app: Flask) -> None:
    first = billing.stop_billing(SUBSCRIPTION, None, "stop:case-3")
    second = billing.stop_billing(SUBSCRIPTION, None, "stop:case-3")
    assert first == second
    [*_, last_update] = app.extensions["calls"].of("stripe", f"/v1/subscriptions/{SUBSCRIPTION}", "POST")
    assert last_update["status"] == 200


def test_a_canceled_subscription_cannot_be_updated_and_stop_billing_accepts_it(
    billing: BillingClient, raw: httpx.Client
) -> None:
    canceled = raw.delete(
        f"/v1/subscriptions/{SUBSCRIPTION}", params={"cancellation_details[feedback]": "switched_service"}
    )
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert canceled.json()["cancellation_details"]["feedback"] == "switched_service"
    again = raw.delete(f"/v1/subscriptions/{SUBSCRIPTION}")
    assert again.status_code == 400 and error_of(again)["type"] == "invalid_request_error"
    update = raw.post(f"/v1/subscriptions/{SUBSCRIPTION}", data={"cancel_at_period_end": "true"})
    assert update.status_code == 400 and error_of(update)["type"] == "invalid_request_error"
    assert billing.stop_billing(SUBSCRIPTION, None, "stop:case-4").status == "canceled"
    assert billing.active_subscriptions(CUSTOMER) == []


def test_cancel_at_in_the_past_is_rejected(billing: BillingClient) -> None:
    with pytest.raises(VendorError, match="future"):
        billing.stop_billing(SUBSCRIPTION, date(2020, 1, 1), "stop:case-5")


# ---------------------------------------------------------------------- idempotency


def test_same_key_same_params_replays_the_stored_response(raw: httpx.Client, app: Flask) -> None:
    params = {"payment_intent": "pi_AcmePaid01", "amount": "5000", "metadata[case_id]": "c1"}
    first = raw.post("/v1/refunds", data=params, headers={"Idempotency-Key": "refund:c1"})
    second = raw.post("/v1/refunds", data=params, headers={"Idempotency-Key": "refund:c1"})
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() and first.json()["id"].startswith("re_")
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Idempotency-Key"] == "refund:c1"
    assert len(state(app).refunds) == 1


def test_same_key_different_params_is_an_idempotency_error(raw: httpx.Client, billing: BillingClient) -> None:
    billing.refund("pi_AcmePaid01", 5000, "refund:c2")
    response = raw.post(
        "/v1/refunds",
        data={"payment_intent": "pi_AcmePaid01", "amount": "6000"},
        headers={"Idempotency-Key": "refund:c2"},
    )
    assert response.status_code == 400 and error_of(response)["type"] == "idempotency_error"
    with pytest.raises(VendorError, match="IdempotencyError"):
        billing.refund("pi_AcmePaid01", 6000, "refund:c2")


def test_a_lost_response_retried_with_the_same_key_refunds_once(billing: BillingClient, app: Flask) -> None:
    # The refund is made, then the response is lost (a 500 on the way back).
    app.extensions["faults"].add(
        Fault("stripe", "/v1/refunds", 500, {"error": {"type": "api_error", "message": "boom"}}, when="after")
    )
    with pytest.raises(TransientError):
        billing.refund("pi_AcmePaid01", 7000, "refund:c3", metadata={"case_id": "c3"})
    refund = billing.refund("pi_AcmePaid01", 7000, "refund:c3", metadata={"case_id": "c3"})
    assert [r.id for r in billing.refunds_for("pi_AcmePaid01")] == [refund.id]
    assert refund.metadata == {"case_id": "c3"}


def test_a_validation_failure_is_not_stored_under_the_key(billing: BillingClient) -> None:
    with pytest.raises(VendorError, match="amount_too_large"):
        billing.refund("pi_AcmePaid01", 400001, "refund:c4")
    assert billing.refund("pi_AcmePaid01", 400000, "refund:c5").amount == 400000


# ---------------------------------------------------------------------- refunds


def test_partial_refunds_reduce_what_is_refundable(billing: BillingClient) -> None:
    billing.refund("pi_AcmePaid01", 100000, "refund:p1")
    [payment] = billing.refundable_payments(CUSTOMER)
    assert (payment.amount_refunded, payment.refundable) == (100000, 300000)
    with pytest.raises(VendorError, match="amount_too_large"):
        billing.refund("pi_AcmePaid01", 300001, "refund:p2")
    refund = billing.refund("pi_AcmePaid01", 300000, "refund:p3")
    assert (refund.status, refund.currency, refund.payment_intent) == ("succeeded", "usd", "pi_AcmePaid01")
    assert billing.refundable_payments(CUSTOMER) == []
    assert sum(r.amount for r in billing.refunds_for("pi_AcmePaid01")) == 400000


def test_refund_error_shape(raw: httpx.Client) -> None:
    too_large = raw.post("/v1/refunds", data={"payment_intent": "pi_AcmePaid01", "amount": "999999999"})
    error = error_of(too_large)
    assert too_large.status_code == 400 and (error["code"], error["param"]) == ("amount_too_large", "amount")
    neither = raw.post("/v1/refunds", data={"amount": "1"})
    assert neither.status_code == 400
    unknown = raw.post("/v1/refunds", data={"payment_intent": "pi_missing"})
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "resource_missing"


# ---------------------------------------------------------------------- pagination


def test_open_invoices_pages_through_has_more(billing: BillingClient, app: Flask, raw: httpx.Client) -> None:
    now = datetime.now(UTC)
    for n in range(5):
        stand_in.add_invoice(state(app), customer=CUSTOMER, amount_due=1000 + n, created=now - timedelta(hours=n))
    billing.page_size = 2
    invoices = billing.open_invoices(CUSTOMER)
    assert len(invoices) == 6 and len({i.id for i in invoices}) == 6
    assert len(app.extensions["calls"].of("stripe", "/v1/invoices")) == 3
    page = raw.get("/v1/invoices", params={"customer": CUSTOMER, "status": "open", "limit": 2}).json()
    assert page["has_more"] is True and len(page["data"]) == 2
    after = raw.get(
        "/v1/invoices",
        params={"customer": CUSTOMER, "status": "open", "limit": 2, "starting_after": page["data"][-1]["id"]},
    ).json()
    assert after["data"][0]["id"] not in {i["id"] for i in page["data"]}


def test_refund_created_timestamps_are_recent(billing: BillingClient, raw: httpx.Client) -> None:
    refund = billing.refund("pi_AcmePaid01", 10, "refund:t1")
    [wire] = raw.get("/v1/refunds", params={"payment_intent": "pi_AcmePaid01"}).json()["data"]
    assert wire["id"] == refund.id and wire["object"] == "refund" and abs(wire["created"] - time.time()) < 60

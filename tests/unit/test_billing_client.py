"""BillingClient against a mocked Stripe wire (respx): requests it sends, errors it maps."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from savedesk.errors import PermanentError, TransientError, VendorError
from savedesk.integrations.billing import (
    STRIPE_API_VERSION,
    BillingClient,
    end_of_day_utc,
    format_amount,
    to_decimal,
)

BASE = "https://stripe.test"
PERIOD_END = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())


def subscription(status: str = "active", **overrides: Any) -> dict[str, Any]:
    sub = {
        "id": "sub_1",
        "object": "subscription",
        "status": status,
        "customer": "cus_1",
        "cancel_at_period_end": False,
        "cancel_at": None,
        "currency": "usd",
        "items": {
            "object": "list",
            "has_more": False,
            "data": [
                {
                    "id": "si_1",
                    "object": "subscription_item",
                    "quantity": 1,
                    "current_period_start": PERIOD_END - 30 * 86400,
                    "current_period_end": PERIOD_END,
                    "price": {"id": "price_1", "object": "price", "unit_amount": 400000, "currency": "usd"},
                }
            ],
        },
    }
    sub.update(overrides)
    return sub


def stripe_error(type_: str, message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"type": type_, "message": message, "code": code}}


def listing(url: str, data: list[dict[str, Any]], has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "url": url, "has_more": has_more, "data": data}


def form(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode())


@pytest.fixture(scope="module")
def client() -> BillingClient:
    # One client for the module: building its httpx client (TLS context) is the slow part.
    return BillingClient("sk_test_unit", BASE, timeout=2)


@pytest.fixture
def stripe_api():
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


# ---------------------------------------------------------------------- requests sent


def test_pins_the_api_version_and_sends_the_key(client: BillingClient, stripe_api: respx.MockRouter) -> None:
    route = stripe_api.get("/v1/subscriptions/sub_1").respond(200, json=subscription())
    client.subscription("sub_1")
    request = route.calls.last.request
    assert request.headers["Stripe-Version"] == STRIPE_API_VERSION == "2025-03-31.basil"
    assert request.headers["Authorization"] == "Bearer sk_test_unit"


def test_subscription_reads_the_period_from_the_items(client: BillingClient, stripe_api: respx.MockRouter) -> None:
    stripe_api.get("/v1/subscriptions/sub_1").respond(200, json=subscription())
    sub = client.subscription("sub_1")
    assert sub.current_period_end == date(2026, 12, 1)
    assert (sub.amount, sub.currency, sub.cancel_at, sub.billing_stopped) == (400000, "usd", None, False)


def test_stop_billing_at_period_end_passes_the_idempotency_key(
    client: BillingClient, stripe_api: respx.MockRouter
) -> None:
    stripe_api.get("/v1/subscriptions/sub_1").respond(200, json=subscription())
    update = stripe_api.post("/v1/subscriptions/sub_1").respond(
        200, json=subscription(cancel_at_period_end=True, cancel_at=PERIOD_END)
    )
    sub = client.stop_billing(
        "sub_1",
        None,
        "stop-billing:case-1",
        comment="Budget cuts",
        feedback="too_expensive",
        metadata={"case_id": "c1"},
    )
    request = update.calls.last.request
    assert request.headers["Idempotency-Key"] == "stop-billing:case-1"
    assert form(request) == {
        "cancel_at_period_end": ["true"],
        "cancellation_details[comment]": ["Budget cuts"],
        "cancellation_details[feedback]": ["too_expensive"],
        "metadata[case_id]": ["c1"],
    }
    assert sub.cancel_at_period_end and sub.cancel_at == date(2026, 12, 1) and sub.billing_stopped


def test_stop_billing_at_a_date_cancels_at_its_end_of_day_utc(
    client: BillingClient, stripe_api: respx.MockRouter
) -> None:
    stripe_api.get("/v1/subscriptions/sub_1").respond(200, json=subscription())
    at = end_of_day_utc(date(2026, 12, 31))
    update = stripe_api.post("/v1/subscriptions/sub_1").respond(200, json=subscription(cancel_at=at))
    sub = client.stop_billing("sub_1", date(2026, 12, 31), "k")
    assert form(update.calls.last.request) == {"cancel_at": [str(at)]}
    assert at == int(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())
    assert sub.cancel_at == date(2026, 12, 31)


def test_stop_billing_on_a_canceled_subscription_is_success_without_an_update(
    client: BillingClient, stripe_api: respx.MockRouter
) -> None:
    stripe_api.get("/v1/subscriptions/sub_1").respond(200, json=subscription("canceled"))
    update = stripe_api.post("/v1/subscriptions/sub_1")
    assert client.stop_billing("sub_1", None, "k").status == "canceled"
    assert not update.called


def test_stop_billing_canceled_between_read_and_update_is_success(
    client: BillingClient, stripe_api: respx.MockRouter
) -> None:
    stripe_api.get("/v1/subscriptions/sub_1").mock(
        side_effect=[httpx.Response(200, json=subscription()), httpx.Response(200, json=subscription("canceled"))]
    )
    stripe_api.post("/v1/subscriptions/sub_1").respond(
        400,
        json=stripe_error(
            "invalid_request_error", "A canceled subscription can only update its cancellation_details and metadata."
        ),
    )
    assert client.stop_billing("sub_1", None, "k").status == "canceled"


def test_stop_billing_rejected_for_another_reason_raises(client: BillingClient, stripe_api: respx.MockRouter) -> None:
    stripe_api.get("/v1/subscriptions/sub_1").respond(200, json=subscription())
    stripe_api.post("/v1/subscriptions/sub_1").respond(
        400, json=stripe_error("invalid_request_error", "cancel_at must be in the future.")
    )
    with pytest.raises(VendorError, match="cancel_at must be in the future"):
        client.stop_billing("sub_1", date(2020, 1, 1), "k")


def test_active_subscriptions_leaves_out_ended_ones(client: BillingClient, stripe_api: respx.MockRouter) -> None:
    route = stripe_api.get("/v1/subscriptions").respond(
        200,
        json=listing("/v1/subscriptions", [subscription(), subscription("incomplete_expired", id="sub_2")]),
    )
    subs = client.active_subscriptions("cus_1")
    assert [s.id for s in subs] == ["sub_1"]
    assert route.calls.last.request.url.params["customer"] == "cus_1"


def test_open_invoices_follows_has_more(client: BillingClient, stripe_api: respx.MockRouter) -> None:
    def invoice(n: int) -> dict[str, Any]:
        return {
            "id": f"in_{n}",
            "object": "invoice",
            "number": f"N-{n}",
            "amount_remaining": 1000 * n,
            "currency": "usd",
            "due_date": PERIOD_END,
            "hosted_invoice_url": f"https://invoice.stripe.test/i/{n}",
            "status": "open",
        }

    route = stripe_api.get("/v1/invoices").mock(
        side_effect=[
            httpx.Response(200, json=listing("/v1/invoices", [invoice(3), invoice(2)], has_more=True)),
            httpx.Response(200, json=listing("/v1/invoices", [invoice(1)])),
        ]
    )
    invoices = client.open_invoices("cus_1")
    assert [i.id for i in invoices] == ["in_3", "in_2", "in_1"]
    assert invoices[0].amount_remaining == 3000 and invoices[0].due_date == date(2026, 12, 1)
    first, second = (c.request.url.params for c in route.calls)
    assert first["status"] == "open" and first["customer"] == "cus_1" and "starting_after" not in first
    assert second["starting_after"] == "in_2"


def test_refundable_payments_reads_refunds_off_the_expanded_charge(
    client: BillingClient, stripe_api: respx.MockRouter
) -> None:
    def intent(pi: str, status: str, refunded: int) -> dict[str, Any]:
        charge = {"id": "ch_" + pi, "object": "charge", "amount_captured": 400000, "amount_refunded": refunded}
        return {
            "id": pi,
            "object": "payment_intent",
            "status": status,
            "amount": 400000,
            "amount_received": 400000 if status == "succeeded" else 0,
            "currency": "usd",
            "created": PERIOD_END,
            "latest_charge": charge,
        }

    route = stripe_api.get("/v1/payment_intents").respond(
        200,
        json=listing(
            "/v1/payment_intents",
            [intent("pi_a", "succeeded", 1000), intent("pi_b", "succeeded", 400000), intent("pi_c", "canceled", 0)],
        ),
    )
    payments = client.refundable_payments("cus_1")
    assert [(p.payment_intent, p.refundable) for p in payments] == [("pi_a", 399000)]
    assert route.calls.last.request.url.params.get_list("expand[0]") == ["data.latest_charge"]


def test_refund_sends_amount_reason_metadata_and_key(client: BillingClient, stripe_api: respx.MockRouter) -> None:
    route = stripe_api.post("/v1/refunds").respond(
        200,
        json={
            "id": "re_1",
            "object": "refund",
            "amount": 5000,
            "status": "succeeded",
            "currency": "usd",
            "payment_intent": "pi_1",
            "metadata": {"case_id": "c1"},
        },
    )
    refund = client.refund("pi_1", 5000, "refund:c1:pi_1", metadata={"case_id": "c1"})
    request = route.calls.last.request
    assert request.headers["Idempotency-Key"] == "refund:c1:pi_1"
    assert form(request) == {
        "payment_intent": ["pi_1"],
        "amount": ["5000"],
        "reason": ["requested_by_customer"],
        "metadata[case_id]": ["c1"],
    }
    assert (refund.id, refund.amount, refund.status, refund.metadata) == ("re_1", 5000, "succeeded", {"case_id": "c1"})


def test_refund_rejects_a_non_positive_amount_before_calling(client: BillingClient) -> None:
    with pytest.raises(ValueError):
        client.refund("pi_1", 0, "k")


def test_refunds_for_lists_by_payment_intent(client: BillingClient, stripe_api: respx.MockRouter) -> None:
    route = stripe_api.get("/v1/refunds").respond(
        200,
        json=listing(
            "/v1/refunds",
            [{"id": "re_1", "object": "refund", "amount": 10, "status": "succeeded", "currency": "usd"}],
        ),
    )
    assert [r.id for r in client.refunds_for("pi_1")] == ["re_1"]
    assert route.calls.last.request.url.params["payment_intent"] == "pi_1"


# ---------------------------------------------------------------------- error mapping


def test_rate_limit_is_transient_with_retry_after(client: BillingClient, stripe_api: respx.MockRouter) -> None:
    stripe_api.get("/v1/subscriptions/sub_1").respond(
        429,
        json=stripe_error("invalid_request_error", "Too many requests", "rate_limit"),
        headers={"Retry-After": "7"},
    )
    with pytest.raises(TransientError) as caught:
        client.subscription("sub_1")
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_transient(client: BillingClient, stripe_api: respx.MockRouter, status: int) -> None:
    stripe_api.get("/v1/subscriptions/sub_1").respond(status, json=stripe_error("api_error", "Something went wrong"))
    with pytest.raises(TransientError):
        client.subscription("sub_1")


def test_a_gateway_error_page_is_transient(client: BillingClient, stripe_api: respx.MockRouter) -> None:
    stripe_api.get("/v1/subscriptions/sub_1").respond(502, text="<html>Bad Gateway</html>")
    with pytest.raises(TransientError):
        client.subscription("sub_1")


def test_idempotency_key_in_flight_conflict_is_transient(client: BillingClient, stripe_api: respx.MockRouter) -> None:
    stripe_api.post("/v1/refunds").respond(409, json=stripe_error("idempotency_error", "in progress"))
    with pytest.raises(TransientError):
        client.refund("pi_1", 100, "k")


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow"), httpx.ConnectError("down")])
def test_timeouts_and_network_errors_are_transient(
    client: BillingClient, stripe_api: respx.MockRouter, exc: Exception
) -> None:
    stripe_api.get("/v1/subscriptions/sub_1").mock(side_effect=exc)
    with pytest.raises(TransientError):
        client.subscription("sub_1")


def test_malformed_json_is_transient(client: BillingClient, stripe_api: respx.MockRouter) -> None:
    stripe_api.get("/v1/subscriptions/sub_1").respond(200, text="{not json")
    with pytest.raises(TransientError):
        client.subscription("sub_1")


def test_a_timeout_during_pagination_is_transient(client: BillingClient, stripe_api: respx.MockRouter) -> None:
    first_page = [{"id": "in_1", "object": "invoice", "amount_remaining": 1, "currency": "usd", "status": "open"}]
    stripe_api.get("/v1/invoices").mock(
        side_effect=[
            httpx.Response(200, json=listing("/v1/invoices", first_page, has_more=True)),
            httpx.ReadTimeout("slow"),
        ]
    )
    with pytest.raises(TransientError):
        client.open_invoices("cus_1")


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            401,
            stripe_error("invalid_request_error", "Expired API Key provided: sk_test_****", "api_key_expired"),
            "api_key_expired",
        ),
        (401, stripe_error("invalid_request_error", "Invalid API Key provided"), "Invalid API Key"),
        (402, stripe_error("card_error", "Your card was declined.", "card_declined"), "card_declined"),
        (403, stripe_error("invalid_request_error", "The provided key does not have access"), "does not have access"),
        (
            404,
            stripe_error("invalid_request_error", "No such payment_intent: 'pi_1'", "resource_missing"),
            "resource_missing",
        ),
        (
            400,
            stripe_error("idempotency_error", "Keys for idempotent requests can only be used with the same"),
            "IdempotencyError",
        ),
        (
            400,
            stripe_error("invalid_request_error", "Refund amount is greater", "amount_too_large"),
            "amount_too_large",
        ),
    ],
)
def test_client_errors_are_permanent_vendor_errors(
    client: BillingClient, stripe_api: respx.MockRouter, status: int, body: dict[str, Any], expected: str
) -> None:
    stripe_api.post("/v1/refunds").respond(status, json=body)
    with pytest.raises(VendorError, match=expected) as caught:
        client.refund("pi_1", 100, "k")
    assert isinstance(caught.value, PermanentError)
    assert str(status) in str(caught.value)


def test_no_stripe_exception_leaks(client: BillingClient, stripe_api: respx.MockRouter) -> None:
    stripe_api.get("/v1/subscriptions/sub_1").respond(418, json=stripe_error("api_error", "teapot"))
    with pytest.raises(VendorError) as caught:
        client.subscription("sub_1")
    assert type(caught.value) is VendorError


# ---------------------------------------------------------------------- helpers and import cost


def test_money_helpers() -> None:
    assert to_decimal(120000, "usd") == Decimal("1200.00")
    assert to_decimal(5000, "JPY") == Decimal(5000)
    assert format_amount(400000, "usd") == "4,000.00 USD"
    assert format_amount(5000, "jpy") == "5,000 JPY"


def test_importing_the_module_does_not_import_stripe() -> None:
    code = "import sys, savedesk.integrations.billing; print('stripe' in sys.modules)"
    layer = Path(__file__).resolve().parents[2] / "layers" / "savedesk"
    out = subprocess.run(  # noqa: S603 - our own interpreter, a fixed snippet
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONPATH": str(layer)}
    )
    assert json.loads(out.stdout.strip().lower()) is False

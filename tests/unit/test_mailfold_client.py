"""MailfoldClient against a mocked wire (respx), and order_card_once's never-twice rule."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from savedesk.errors import PermanentError, TransientError, VendorError
from savedesk.integrations.mailfold import CardOrder, CardSender, MailfoldClient, PostalAddress, order_card_once

BASE = "https://mailfold.test"
REF = "savedesk:case-1:thank-you-card"
DANA = PostalAddress(
    name="Dana Whitfield",
    company="Acme Dental Group",
    address_line1="100 Harbor St",
    address_line2="Suite 4",
    city="Portland",
    state="OR",
    postal_code="97201",
    country="US",
)
AGENCY = PostalAddress(
    name="Priya Natarajan", company="Topline", address_line1="1 Main St", city="Austin", state="TX", postal_code="78701"
)


def order(order_id: str = "ord_1", reference: str = REF) -> dict[str, Any]:
    return {"id": order_id, "status": "queued", "reference": reference, "template_id": "tpl_x", "extra": 1}


@pytest.fixture
def client() -> MailfoldClient:
    return MailfoldClient(BASE, "mf_key", "tpl_x", AGENCY, http=httpx.Client(timeout=2), budget_seconds=lambda: 1.0)


@pytest.fixture
def api():
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


def test_order_card_sends_the_assumed_body(client: MailfoldClient, api: respx.MockRouter) -> None:
    route = api.post("/v1/orders").respond(201, json=order())
    assert client.order_card(DANA, "Thank you, Dana.", REF) == CardOrder(id="ord_1", status="queued", reference=REF)
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer mf_key"
    body = json.loads(request.content)
    assert body["template_id"] == "tpl_x" and body["message"] == "Thank you, Dana." and body["reference"] == REF
    assert body["recipient"]["address_line2"] == "Suite 4" and body["sender"]["company"] == "Topline"
    assert set(body["recipient"]) == {
        "name",
        "company",
        "address_line1",
        "address_line2",
        "city",
        "state",
        "postal_code",
        "country",
    }


def test_find_order_by_reference(client: MailfoldClient, api: respx.MockRouter) -> None:
    route = api.get("/v1/orders").respond(200, json={"data": [order()], "has_more": False})
    assert client.find_order(REF) == CardOrder(id="ord_1", status="queued", reference=REF)
    assert route.calls.last.request.url.params["reference"] == REF


def test_find_order_ignores_other_references(client: MailfoldClient, api: respx.MockRouter) -> None:
    # Should the vendor's filter be looser than assumed (prefix match, ignored param), we still match exactly.
    api.get("/v1/orders").respond(200, json={"data": [order("ord_9", REF + "-other")], "has_more": False})
    assert client.find_order(REF) is None


def test_order_card_once_finds_before_ordering(client: MailfoldClient, api: respx.MockRouter) -> None:
    api.get("/v1/orders").respond(200, json={"data": [order()], "has_more": False})
    post = api.post("/v1/orders")
    assert client.order_card_once(DANA, "Thanks", REF).id == "ord_1"
    assert not post.called


def test_order_card_once_orders_when_none_exists(client: MailfoldClient, api: respx.MockRouter) -> None:
    api.get("/v1/orders").respond(200, json={"data": [], "has_more": False})
    post = api.post("/v1/orders").respond(201, json=order("ord_2"))
    assert client.order_card_once(DANA, "Thanks", REF).id == "ord_2"
    assert post.call_count == 1


def test_a_timed_out_order_is_found_on_the_retry_not_ordered_again(
    client: MailfoldClient, api: respx.MockRouter
) -> None:
    # The first POST times out after Mailfold took the order; the workflow retries the step.
    api.get("/v1/orders").mock(
        side_effect=[
            httpx.Response(200, json={"data": [], "has_more": False}),
            httpx.Response(200, json={"data": [order()], "has_more": False}),
        ]
    )
    post = api.post("/v1/orders").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TransientError):
        client.order_card_once(DANA, "Thanks", REF)
    assert client.order_card_once(DANA, "Thanks", REF).id == "ord_1"
    assert post.call_count == 1


class FakeSender:
    """Any CardSender works with order_card_once: it depends on the Protocol, not on Mailfold."""

    def __init__(self) -> None:
        self.orders: dict[str, CardOrder] = {}

    def order_card(self, recipient: PostalAddress, message: str, reference: str) -> CardOrder:
        self.orders[reference] = CardOrder(id=f"ord_{len(self.orders)}", status="queued", reference=reference)
        return self.orders[reference]

    def find_order(self, reference: str) -> CardOrder | None:
        return self.orders.get(reference)


def test_order_card_once_never_orders_twice_for_one_reference() -> None:
    sender: CardSender = FakeSender()
    first = order_card_once(sender, DANA, "Thanks", REF)
    assert order_card_once(sender, DANA, "Thanks again", REF) == first
    other = order_card_once(sender, DANA, "Thanks", "savedesk:case-2:thank-you-card")
    assert other.id != first.id


def test_get_order(client: MailfoldClient, api: respx.MockRouter) -> None:
    api.get("/v1/orders/ord_1").respond(200, json=order())
    assert client.get_order("ord_1").status == "queued"


def test_429_with_retry_after_is_transient_beyond_the_budget(client: MailfoldClient, api: respx.MockRouter) -> None:
    api.post("/v1/orders").respond(
        429, json={"error": {"code": "rate_limited", "message": "x"}}, headers={"Retry-After": "9"}
    )
    with pytest.raises(TransientError) as caught:
        client.order_card(DANA, "Thanks", REF)
    assert caught.value.retry_after == 9.0


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(client: MailfoldClient, api: respx.MockRouter, status: int) -> None:
    api.get("/v1/orders").respond(status, text="oops")
    with pytest.raises(TransientError):
        client.find_order(REF)


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow"), httpx.ConnectError("down")])
def test_timeouts_are_transient(client: MailfoldClient, api: respx.MockRouter, exc: Exception) -> None:
    api.get("/v1/orders").mock(side_effect=exc)
    with pytest.raises(TransientError):
        client.find_order(REF)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="not json"),
        httpx.Response(200, json={"orders": []}),
        httpx.Response(200, json={"data": [{"reference": REF}]}),
    ],
)
def test_malformed_responses_are_transient(
    client: MailfoldClient, api: respx.MockRouter, response: httpx.Response
) -> None:
    api.get("/v1/orders").mock(return_value=response)
    with pytest.raises(TransientError):
        client.find_order(REF)


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (401, {"code": "unauthorized", "message": "API key expired"}, "401 unauthorized"),
        (
            422,
            {"code": "invalid_address", "message": "Invalid US ZIP", "field": "recipient.postal_code"},
            "invalid_address: Invalid US ZIP (field recipient.postal_code)",
        ),
        (422, {"code": "unknown_template", "message": "no"}, "unknown_template"),
    ],
)
def test_client_errors_are_permanent(
    client: MailfoldClient, api: respx.MockRouter, status: int, error: dict[str, str], expected: str
) -> None:
    api.post("/v1/orders").respond(status, json={"error": error})
    with pytest.raises(VendorError) as caught:
        client.order_card(DANA, "Thanks", REF)
    assert isinstance(caught.value, PermanentError) and expected in str(caught.value)

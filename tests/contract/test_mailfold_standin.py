"""The real MailfoldClient against the Mailfold stand-in (the ASSUMED contract, docs/mailfold-assumed-contract.md)."""

from __future__ import annotations

import httpx
import pytest
from flask import Flask

from local.sandbox import mailfold as stand_in
from local.sandbox.app import Fault
from savedesk.errors import PermanentError, TransientError, VendorError
from savedesk.integrations.mailfold import MailfoldClient, PostalAddress

REF = "savedesk:case-1:thank-you-card"
# The demo client's postal address (docs/demo-client.md).
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


@pytest.fixture
def mailfold_url(sandbox_server: tuple[str, Flask]) -> str:
    return f"{sandbox_server[0]}/mailfold"


@pytest.fixture
def app(sandbox_server: tuple[str, Flask]) -> Flask:
    return sandbox_server[1]


@pytest.fixture
def client(mailfold_url: str) -> MailfoldClient:
    return MailfoldClient(mailfold_url, stand_in.API_KEY, stand_in.TEMPLATE_ID, AGENCY, budget_seconds=lambda: 5.0)


def orders(app: Flask) -> dict[str, dict]:
    return app.extensions["vendors"]["mailfold"].orders


def test_order_card_once_orders_one_card(client: MailfoldClient, app: Flask) -> None:
    card = client.order_card_once(DANA, "Dana, thank you for the years together.", REF)
    assert card.id.startswith("ord_") and card.status == "queued" and card.reference == REF
    [stored] = orders(app).values()
    assert stored["recipient"]["address_line2"] == "Suite 4" and stored["sender"]["name"] == "Priya Natarajan"
    assert client.get_order(card.id) == card


def test_rerunning_never_orders_twice(client: MailfoldClient, app: Flask) -> None:
    first = client.order_card_once(DANA, "Thanks", REF)
    assert client.order_card_once(DANA, "Thanks", REF) == first
    assert client.order_card_once(DANA, "A different message", REF) == first
    assert len(orders(app)) == 1
    assert len(app.extensions["calls"].of("mailfold", "/v1/orders", "POST")) == 1


def test_the_stand_in_itself_has_no_idempotency(client: MailfoldClient, app: Flask) -> None:
    # As assumed of the vendor: two POSTs are two cards. This is why order_card_once searches first.
    client.order_card(DANA, "Thanks", REF)
    client.order_card(DANA, "Thanks", REF)
    assert len(orders(app)) == 2


def test_a_lost_response_is_found_on_retry(client: MailfoldClient, app: Flask) -> None:
    # Mailfold takes the order, then the response is lost on the way back.
    assert client.find_order(REF) is None
    app.extensions["faults"].add(
        Fault("mailfold", "/v1/orders", 502, {"error": {"code": "internal_error", "message": "lost"}}, when="after")
    )
    with pytest.raises(TransientError):
        client.order_card(DANA, "Thanks", REF)
    card = client.order_card_once(DANA, "Thanks", REF)
    assert [card.id] == list(orders(app))


def test_find_order_for_an_unknown_reference_is_none(client: MailfoldClient) -> None:
    client.order_card_once(DANA, "Thanks", REF)
    assert client.find_order("savedesk:case-2:thank-you-card") is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"postal_code": "9720"}, "recipient.postal_code"),
        ({"state": "ZZ"}, "recipient.state"),
        ({"address_line1": ""}, "recipient.address_line1"),
        ({"country": "USA"}, "recipient.country"),
    ],
)
def test_a_bad_address_is_a_permanent_422(client: MailfoldClient, app: Flask, change: dict, field: str) -> None:
    bad = DANA.model_copy(update=change)
    with pytest.raises(VendorError, match="422 invalid_address") as caught:
        client.order_card_once(bad, "Thanks", REF)
    assert isinstance(caught.value, PermanentError) and field in str(caught.value)
    assert orders(app) == {}


def test_sender_and_template_default(mailfold_url: str, app: Flask) -> None:
    card = MailfoldClient(mailfold_url, stand_in.API_KEY).order_card_once(DANA, "Thanks", REF)
    assert orders(app)[card.id]["sender"] is None
    assert orders(app)[card.id]["template_id"] == stand_in.TEMPLATE_ID


def test_a_non_us_address_needs_no_state(client: MailfoldClient) -> None:
    london = PostalAddress(name="A", address_line1="1 High St", city="London", postal_code="EC1A 1BB", country="GB")
    assert client.order_card_once(london, "Thanks", REF).status == "queued"


def test_unknown_template_and_long_message_are_rejected(mailfold_url: str) -> None:
    with pytest.raises(VendorError, match="unknown_template"):
        MailfoldClient(mailfold_url, stand_in.API_KEY, "tpl_nope", AGENCY).order_card(DANA, "Thanks", REF)
    with pytest.raises(VendorError, match="validation_error"):
        MailfoldClient(mailfold_url, stand_in.API_KEY, stand_in.TEMPLATE_ID, AGENCY).order_card(DANA, "x" * 501, REF)


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", stand_in.API_KEY])
def test_missing_or_wrong_auth_is_401(mailfold_url: str, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    for response in (
        httpx.get(f"{mailfold_url}/v1/orders", params={"reference": REF}, headers=headers),
        httpx.post(f"{mailfold_url}/v1/orders", json={}, headers=headers),
        httpx.get(f"{mailfold_url}/v1/orders/ord_x", headers=headers),
    ):
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


def test_wrong_key_is_permanent_for_the_client(mailfold_url: str) -> None:
    with pytest.raises(PermanentError, match="401"):
        MailfoldClient(mailfold_url, "mf_expired", stand_in.TEMPLATE_ID, AGENCY).find_order(REF)


def test_unknown_order_is_404(client: MailfoldClient) -> None:
    with pytest.raises(VendorError, match="404 not_found"):
        client.get_order("ord_nope")


def test_created_order_wire_shape(mailfold_url: str) -> None:
    response = httpx.post(
        f"{mailfold_url}/v1/orders",
        headers={"Authorization": f"Bearer {stand_in.API_KEY}"},
        json={
            "template_id": stand_in.TEMPLATE_ID,
            "message": "Thanks",
            "recipient": DANA.model_dump(),
            "sender": AGENCY.model_dump(),
            "reference": REF,
        },
    )
    assert response.status_code == 201
    assert {"id", "status", "reference", "template_id", "message", "recipient", "sender", "created_at"} <= set(
        response.json()
    )
    listing = httpx.get(
        f"{mailfold_url}/v1/orders", params={"reference": REF}, headers={"Authorization": f"Bearer {stand_in.API_KEY}"}
    ).json()
    assert listing["has_more"] is False and [o["id"] for o in listing["data"]] == [response.json()["id"]]

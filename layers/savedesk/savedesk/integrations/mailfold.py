"""Handwritten cards (Mailfold), behind the small `CardSender` interface.

Mailfold's API is not publicly documented: `MailfoldClient` codes against the ASSUMED contract
in docs/mailfold-assumed-contract.md, to be confirmed with the vendor. We assume no
idempotency key, so a card is never ordered without first looking for one with the same
`reference` (`order_card_once`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ValidationError

from savedesk.errors import TransientError
from savedesk.integrations.http import DEFAULT_TIMEOUT, call_json, json_request

VENDOR = "mailfold"
DEFAULT_TEMPLATE_ID = "tpl_thank_you_card"


class PostalAddress(BaseModel):
    name: str
    company: str | None = None
    address_line1: str
    address_line2: str | None = None
    city: str
    state: str | None = None
    postal_code: str
    country: str = "US"


class CardOrder(BaseModel):
    id: str
    status: str
    reference: str | None


class CardSender(Protocol):
    def order_card(self, recipient: PostalAddress, message: str, reference: str) -> CardOrder: ...

    def find_order(self, reference: str) -> CardOrder | None: ...


def order_card_once(sender: CardSender, recipient: PostalAddress, message: str, reference: str) -> CardOrder:
    """The card for `reference`, ordering it only if none exists yet.

    Covers re-runs and a retry after a timed-out order (which may have gone through): both find
    the first order. `reference` must be stable per card, e.g. `savedesk:<case id>:thank-you-card`.
    """
    existing = sender.find_order(reference)
    if existing is not None:
        return existing
    return sender.order_card(recipient, message, reference)


class MailfoldClient:
    """`base_url` stops before the version: `https://api.mailfold.example` or `http://127.0.0.1:PORT/mailfold`.

    `sender` is the return address printed on the envelope; None leaves it to the Mailfold
    account's default return address (the agency's office).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        template_id: str = DEFAULT_TEMPLATE_ID,
        sender: PostalAddress | None = None,
        http: httpx.Client | None = None,
        budget_seconds: Callable[[], float] | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._template_id = template_id
        self._sender = sender
        self._http = http or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._budget_seconds = budget_seconds

    def order_card(self, recipient: PostalAddress, message: str, reference: str) -> CardOrder:
        """Order one card. Not idempotent: use `order_card_once` unless you have just searched."""
        body: dict[str, Any] = {
            "template_id": self._template_id,
            "message": message,
            "recipient": recipient.model_dump(),
            "reference": reference,
        }
        if self._sender is not None:
            body["sender"] = self._sender.model_dump()
        return _order(self._call("POST", "/v1/orders", body=body))

    def find_order(self, reference: str) -> CardOrder | None:
        body = self._call("GET", "/v1/orders", params={"reference": reference})
        data = body.get("data")
        if not isinstance(data, list):
            raise TransientError(f"{VENDOR}: malformed order list (no 'data' array)")
        matches = [_order(o) for o in data if isinstance(o, dict) and o.get("reference") == reference]
        # More than one means someone ordered outside SaveDesk; any of them proves a card is on its way.
        return matches[0] if matches else None

    def get_order(self, order_id: str) -> CardOrder:
        return _order(self._call("GET", f"/v1/orders/{order_id}"))

    def order_card_once(self, recipient: PostalAddress, message: str, reference: str) -> CardOrder:
        return order_card_once(self, recipient, message, reference)

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        request = json_request(
            self._http,
            method,
            f"{self._base_url}{path}",
            headers={"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"},
            json_body=body,
            params=params,
        )
        return call_json(
            self._http,
            request,
            vendor=VENDOR,
            budget_seconds=self._budget_seconds,
            describe_error=lambda r: f"{VENDOR}: {r.status_code} {_error_detail(r)} ({method} {path})",
        )


def _order(data: dict[str, Any]) -> CardOrder:
    try:
        return CardOrder.model_validate(data)
    except ValidationError as exc:
        raise TransientError(f"{VENDOR}: malformed order in response: {exc.error_count()} errors") from exc


def _error_detail(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
        detail = f"{error.get('code', 'error')}: {error.get('message', '')}"
        return f"{detail} (field {error['field']})" if error.get("field") else detail
    except (ValueError, AttributeError):
        return response.text[:200] or response.reason_phrase

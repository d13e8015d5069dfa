"""Mailfold stand-in for the ASSUMED contract in docs/mailfold-assumed-contract.md, mounted at `/mailfold`.

Like the vendor we assume, it has no idempotency: every valid POST makes a new order, so a
client that orders twice gets two cards (which is what the contract tests check we never do).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, request

from local.sandbox.app import vendor_state

API_KEY = "mf_local_key"
TEMPLATE_ID = "tpl_thank_you_card"
MAX_MESSAGE = 500

US_STATES = frozenset(
    {
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "PR",
    }
)
US_ZIP = re.compile(r"^\d{5}(-\d{4})?$")
ADDRESS_FIELDS = ("name", "company", "address_line1", "address_line2", "city", "state", "postal_code", "country")

blueprint = Blueprint("mailfold", __name__)


@dataclass
class MailfoldState:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    templates: set[str] = field(default_factory=lambda: {TEMPLATE_ID})
    api_keys: set[str] = field(default_factory=lambda: {API_KEY})
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: int = 0


def new_state() -> MailfoldState:
    return MailfoldState()


class Invalid(Exception):
    def __init__(self, code: str, message: str, field_name: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field_name


def _error(status: int, code: str, message: str, field_name: str | None = None) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if field_name:
        error["field"] = field_name
    return Response(json.dumps({"error": error}), status, mimetype="application/json")


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status, mimetype="application/json")


def _authorized(state: MailfoldState) -> bool:
    header = request.headers.get("Authorization", "")
    return header.startswith("Bearer ") and header.removeprefix("Bearer ").strip() in state.api_keys


def validate_address(address: Any, where: str) -> dict[str, Any]:
    if not isinstance(address, dict):
        raise Invalid("validation_error", f"'{where}' must be an object", where)
    clean = {name: (str(address[name]).strip() if address.get(name) is not None else None) for name in ADDRESS_FIELDS}
    for name in ("name", "address_line1", "city", "postal_code", "country"):
        if not clean[name]:
            raise Invalid("invalid_address", f"{where}.{name} is required", f"{where}.{name}")
    country = str(clean["country"])
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise Invalid("invalid_address", "country must be an ISO 3166-1 alpha-2 code", f"{where}.country")
    if country == "US":
        if clean["state"] not in US_STATES:
            raise Invalid("invalid_address", f"Unknown US state: {clean['state']!r}", f"{where}.state")
        if not US_ZIP.match(str(clean["postal_code"])):
            raise Invalid("invalid_address", f"Invalid US ZIP code: {clean['postal_code']!r}", f"{where}.postal_code")
    return clean


@blueprint.post("/v1/orders")
def create_order() -> Response:
    state: MailfoldState = vendor_state("mailfold")
    if not _authorized(state):
        return _error(401, "unauthorized", "Missing or invalid API key")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(422, "validation_error", "Body must be a JSON object")
    try:
        if body.get("template_id") not in state.templates:
            raise Invalid("unknown_template", f"Unknown template: {body.get('template_id')!r}", "template_id")
        message = body.get("message")
        if not isinstance(message, str) or not message.strip():
            raise Invalid("validation_error", "message is required", "message")
        if len(message) > MAX_MESSAGE:
            raise Invalid("validation_error", f"message is longer than {MAX_MESSAGE} characters", "message")
        reference = body.get("reference")
        if reference is not None and (not isinstance(reference, str) or not 1 <= len(reference) <= 255):
            raise Invalid("validation_error", "reference must be 1-255 characters", "reference")
        recipient = validate_address(body.get("recipient"), "recipient")
        # No sender: the account's default return address (assumed), which the stand-in keeps as None.
        sender = validate_address(body["sender"], "sender") if body.get("sender") is not None else None
    except Invalid as exc:
        return _error(422, exc.code, exc.message, exc.field)
    with state.lock:
        state.counter += 1
        order = {
            "id": f"ord_local{state.counter:06d}",
            "status": "queued",
            "reference": reference,
            "template_id": body["template_id"],
            "message": message,
            "recipient": recipient,
            "sender": sender,
            "created_at": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        }
        state.orders[order["id"]] = order
    return _json(201, order)


@blueprint.get("/v1/orders")
def list_orders() -> Response:
    state: MailfoldState = vendor_state("mailfold")
    if not _authorized(state):
        return _error(401, "unauthorized", "Missing or invalid API key")
    reference = request.args.get("reference")
    orders = [o for o in state.orders.values() if reference is None or o["reference"] == reference]
    orders.sort(key=lambda o: o["id"], reverse=True)
    return _json(200, {"data": orders, "has_more": False})


@blueprint.get("/v1/orders/<order_id>")
def get_order(order_id: str) -> Response:
    state: MailfoldState = vendor_state("mailfold")
    if not _authorized(state):
        return _error(401, "unauthorized", "Missing or invalid API key")
    order = state.orders.get(order_id)
    if order is None:
        return _error(404, "not_found", f"No order {order_id!r}")
    return _json(200, order)

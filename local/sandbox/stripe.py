"""Stripe stand-in: the slice of the v1 API SaveDesk uses, in the 2025-03-31.basil shapes.

Speaks Stripe's wire format (form-encoded bracket params, list envelopes, the error envelope,
Idempotency-Key replay) so the official SDK can be pointed at it unchanged. Mounted at
`/stripe`, so the SDK's base address is `http://host:port/stripe`.
"""

from __future__ import annotations

import base64
import calendar
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, request
from werkzeug.datastructures import MultiDict

from local.sandbox.app import vendor_state

API_KEY = "sk_test_local_savedesk"
# A key the stand-in knows but treats as expired, to exercise the 401 path.
EXPIRED_API_KEY = "sk_test_expired_savedesk"
DEFAULT_VERSION = "2025-03-31.basil"

CUSTOMER_ID = "cus_AcmeDental01"
SUBSCRIPTION_ID = "sub_AcmeRetainer01"
OPEN_INVOICE_ID = "in_AcmeOpen01"
PAID_INVOICE_ID = "in_AcmePaid01"
PAID_PAYMENT_INTENT_ID = "pi_AcmePaid01"
PAID_CHARGE_ID = "ch_AcmePaid01"
CONTRACT_START = date(2026, 7, 1)

REFUND_REASONS = {"duplicate", "fraudulent", "requested_by_customer"}
CANCELLATION_FEEDBACK = {
    "customer_service",
    "low_quality",
    "missing_features",
    "other",
    "switched_service",
    "too_complex",
    "too_expensive",
    "unused",
}
SUBSCRIPTION_STATUSES = {
    "active",
    "past_due",
    "unpaid",
    "canceled",
    "incomplete",
    "incomplete_expired",
    "trialing",
    "paused",
    "all",
    "ended",
}
INVOICE_STATUSES = {"draft", "open", "paid", "uncollectible", "void"}


@dataclass
class StoredResponse:
    fingerprint: str
    status: int
    body: dict[str, Any]


@dataclass
class StripeState:
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotency: dict[str, StoredResponse] = field(default_factory=dict)
    in_flight: set[str] = field(default_factory=set)
    versions_seen: list[str] = field(default_factory=list)
    api_keys: set[str] = field(default_factory=lambda: {API_KEY})
    expired_keys: set[str] = field(default_factory=lambda: {EXPIRED_API_KEY})
    lock: threading.RLock = field(default_factory=threading.RLock)
    counter: int = 0

    def new_id(self, prefix: str) -> str:
        with self.lock:
            self.counter += 1
            return f"{prefix}_Local{self.counter:06d}"


# --------------------------------------------------------------------------- seed data


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


def _month_start(day: date) -> datetime:
    return datetime(day.year, day.month, 1, tzinfo=UTC)


def _add_month(moment: datetime) -> datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    last_day = calendar.monthrange(year, month)[1]
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def new_state(today: date | None = None) -> StripeState:
    """The demo client's billing, with the current period computed around `today` (the real clock by default)."""
    state = StripeState()
    seed_demo(state, today or datetime.now(UTC).date())
    return state


def seed_demo(state: StripeState, today: date) -> None:
    # Monthly billing anchored on the 1st (the contract starts on the 1st), so the current
    # period always contains today and the demo works on any day.
    period_start = _month_start(today)
    period_end = _add_month(period_start)
    started = min(datetime.combine(CONTRACT_START, datetime.min.time(), tzinfo=UTC), period_start)
    now = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)

    state.customers[CUSTOMER_ID] = {
        "id": CUSTOMER_ID,
        "object": "customer",
        "name": "Acme Dental Group",
        "email": "dana@acme-dental.example",
        "currency": "usd",
        "created": _ts(started),
        "delinquent": True,
        "description": "Topline retainer client ACME-001",
        "metadata": {"crm_account_id": "ACME-001"},
        "livemode": False,
    }
    add_subscription(
        state,
        customer=CUSTOMER_ID,
        subscription_id=SUBSCRIPTION_ID,
        unit_amount=400000,
        period_start=period_start,
        period_end=period_end,
        created=started,
    )
    add_payment(
        state,
        customer=CUSTOMER_ID,
        amount=400000,
        created=period_start + timedelta(hours=1),
        payment_intent_id=PAID_PAYMENT_INTENT_ID,
        charge_id=PAID_CHARGE_ID,
    )
    add_invoice(
        state,
        customer=CUSTOMER_ID,
        invoice_id=PAID_INVOICE_ID,
        number="ACME-0005",
        status="paid",
        amount_due=400000,
        amount_paid=400000,
        created=period_start,
        due_date=None,
        subscription=SUBSCRIPTION_ID,
        collection_method="charge_automatically",
        description="Monthly retainer",
    )
    # A one-off invoice sent 20 days ago and overdue: the outstanding payment to follow up.
    add_invoice(
        state,
        customer=CUSTOMER_ID,
        invoice_id=OPEN_INVOICE_ID,
        number="ACME-0006",
        status="open",
        amount_due=120000,
        amount_paid=0,
        created=now - timedelta(days=20),
        due_date=now - timedelta(days=5),
        subscription=None,
        collection_method="send_invoice",
        description="Ad-spend management fee (overage)",
    )


def add_subscription(
    state: StripeState,
    *,
    customer: str,
    unit_amount: int,
    period_start: datetime,
    period_end: datetime,
    created: datetime | None = None,
    subscription_id: str | None = None,
    status: str = "active",
    currency: str = "usd",
) -> dict[str, Any]:
    sub_id = subscription_id or state.new_id("sub")
    created_ts = _ts(created or period_start)
    subscription = {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "cancel_at_period_end": False,
        "cancel_at": None,
        "canceled_at": None,
        "ended_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "currency": currency,
        "created": created_ts,
        "start_date": created_ts,
        "billing_cycle_anchor": created_ts,
        "latest_invoice": None,
        "metadata": {},
        "livemode": False,
        "items": {
            "object": "list",
            "url": f"/v1/subscription_items?subscription={sub_id}",
            "has_more": False,
            "total_count": 1,
            "data": [
                {
                    "id": "si_" + sub_id.removeprefix("sub_"),
                    "object": "subscription_item",
                    "subscription": sub_id,
                    "quantity": 1,
                    "created": created_ts,
                    "current_period_start": _ts(period_start),
                    "current_period_end": _ts(period_end),
                    "metadata": {},
                    "price": {
                        "id": "price_" + sub_id.removeprefix("sub_"),
                        "object": "price",
                        "active": True,
                        "currency": currency,
                        "unit_amount": unit_amount,
                        "product": "prod_ToplineRetainer",
                        "recurring": {"interval": "month", "interval_count": 1},
                        "type": "recurring",
                    },
                }
            ],
        },
    }
    state.subscriptions[sub_id] = subscription
    return subscription


def add_invoice(
    state: StripeState,
    *,
    customer: str,
    amount_due: int,
    amount_paid: int = 0,
    status: str = "open",
    created: datetime | None = None,
    due_date: datetime | None = None,
    invoice_id: str | None = None,
    number: str | None = None,
    subscription: str | None = None,
    collection_method: str = "send_invoice",
    description: str | None = None,
    currency: str = "usd",
) -> dict[str, Any]:
    inv_id = invoice_id or state.new_id("in")
    created_ts = _ts(created or datetime.now(UTC))
    parent = None
    if subscription is not None:
        parent = {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"subscription": subscription, "metadata": {}},
        }
    invoice = {
        "id": inv_id,
        "object": "invoice",
        "customer": customer,
        "status": status,
        "number": number or f"LOCAL-{inv_id[-6:]}",
        "currency": currency,
        "amount_due": amount_due,
        "amount_paid": amount_paid,
        "amount_remaining": amount_due - amount_paid,
        "total": amount_due,
        "created": created_ts,
        "due_date": _ts(due_date) if due_date else None,
        "collection_method": collection_method,
        "description": description,
        # Filled in per response from the request's host, so the link works wherever the stand-in runs.
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "parent": parent,
        "status_transitions": {"finalized_at": created_ts, "paid_at": created_ts if status == "paid" else None},
        "metadata": {},
        "livemode": False,
    }
    state.invoices[inv_id] = invoice
    return invoice


def add_payment(
    state: StripeState,
    *,
    customer: str,
    amount: int,
    created: datetime | None = None,
    payment_intent_id: str | None = None,
    charge_id: str | None = None,
    currency: str = "usd",
) -> dict[str, Any]:
    """A succeeded PaymentIntent and its charge."""
    pi_id = payment_intent_id or state.new_id("pi")
    ch_id = charge_id or state.new_id("ch")
    created_ts = _ts(created or datetime.now(UTC))
    state.charges[ch_id] = {
        "id": ch_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": 0,
        "refunded": False,
        "captured": True,
        "paid": True,
        "status": "succeeded",
        "currency": currency,
        "customer": customer,
        "payment_intent": pi_id,
        "created": created_ts,
        "metadata": {},
        "livemode": False,
    }
    intent = {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount,
        "currency": currency,
        "customer": customer,
        "status": "succeeded",
        "latest_charge": ch_id,
        "created": created_ts,
        "metadata": {},
        "livemode": False,
    }
    state.payment_intents[pi_id] = intent
    return intent


# --------------------------------------------------------------------------- wire helpers

blueprint = Blueprint("stripe", __name__)


class StripeHTTPError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        error["request_log_url"] = "https://dashboard.stripe.com/test/logs/req_local"
        return {"error": error}


def _missing(kind: str, object_id: str, param: str = "id") -> StripeHTTPError:
    return StripeHTTPError(404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


def parse_params(values: MultiDict[str, str]) -> dict[str, Any]:
    """Form/query params with Stripe's bracket nesting.

    `a[b]=1` → {"a": {"b": "1"}}; `e[]=x` and `e[0]=x` (the SDK's form) → {"e": ["x"]}.
    """
    params: dict[str, Any] = {}
    for raw_key, value in values.items(multi=True):
        _assign(params, raw_key.replace("]", "").split("["), value)
    return params


def _container(next_part: str) -> Any:
    return [] if next_part == "" or next_part.isdigit() else {}


def _assign(target: Any, parts: list[str], value: str) -> None:
    part, rest = parts[0], parts[1:]
    if isinstance(target, list):
        if part != "" and not part.isdigit():
            raise StripeHTTPError(400, f"Invalid array index: {part}")
        index = len(target) if part == "" else int(part)
        while len(target) <= index:
            target.append(None)
        if not rest:
            target[index] = value
            return
        if target[index] is None:
            target[index] = _container(rest[0])
        _assign(target[index], rest, value)
        return
    if not rest:
        target[part] = value
        return
    if part not in target:
        target[part] = _container(rest[0])
    _assign(target[part], rest, value)


def _bool(params: dict[str, Any], name: str) -> bool | None:
    if name not in params:
        return None
    value = params[name]
    if value in ("true", True):
        return True
    if value in ("false", False):
        return False
    raise StripeHTTPError(400, f"Invalid boolean: {value}", param=name)


def _int(params: dict[str, Any], name: str) -> int | None:
    if name not in params or params[name] in ("", None):
        return None
    try:
        return int(params[name])
    except (TypeError, ValueError):
        raise StripeHTTPError(400, f"Invalid integer: {params[name]}", param=name) from None


def _metadata(params: dict[str, Any]) -> dict[str, str] | None:
    metadata = params.get("metadata")
    if metadata is None or metadata == "":
        return {} if metadata == "" else None
    if not isinstance(metadata, dict):
        raise StripeHTTPError(400, "Invalid hash", param="metadata")
    return {str(k): str(v) for k, v in metadata.items()}


def _authenticate(state: StripeState) -> None:
    header = request.headers.get("Authorization", "")
    key = ""
    if header.startswith("Bearer "):
        key = header.removeprefix("Bearer ").strip()
    elif header.startswith("Basic "):
        try:
            key = base64.b64decode(header.removeprefix("Basic ")).decode().split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            key = ""
    if not key:
        raise StripeHTTPError(
            401,
            "You did not provide an API key. You need to provide your API key in the Authorization header, "
            "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        )
    if key in state.expired_keys:
        raise StripeHTTPError(401, f"Expired API Key provided: {key[:8]}****", code="api_key_expired")
    if key not in state.api_keys:
        raise StripeHTTPError(401, f"Invalid API Key provided: {key[:8]}****{key[-4:]}")


def _json(status: int, body: dict[str, Any], extra_headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(body, indent=2), status=status, mimetype="application/json")
    response.headers["Request-Id"] = "req_" + uuid.uuid4().hex[:14]
    response.headers["Stripe-Version"] = request.headers.get("Stripe-Version", DEFAULT_VERSION)
    for key, value in (extra_headers or {}).items():
        response.headers[key] = value
    return response


def _present(obj: dict[str, Any]) -> dict[str, Any]:
    """A stored object as sent on the wire (a copy, with per-request fields filled in)."""
    out = json.loads(json.dumps(obj))
    if out.get("object") == "invoice" and out["status"] in ("open", "paid"):
        out["hosted_invoice_url"] = f"{request.host_url}stripe/i/{out['id']}"
    return out


def _list(
    items: list[dict[str, Any]],
    url: str,
    params: dict[str, Any],
    kind: str,
    transform: Callable[[dict[str, Any]], dict[str, Any]] = _present,
) -> dict[str, Any]:
    limit = _int(params, "limit")
    if limit is None:
        limit = 10
    if not 1 <= limit <= 100:
        raise StripeHTTPError(400, f"This value must be between 1 and 100 (it currently is {limit}).", param="limit")
    ordered = sorted(items, key=lambda o: (o["created"], o["id"]), reverse=True)
    starting_after = params.get("starting_after")
    if starting_after:
        ids = [o["id"] for o in ordered]
        if starting_after not in ids:
            raise _missing(kind, starting_after, param="starting_after")
        ordered = ordered[ids.index(starting_after) + 1 :]
    page = ordered[:limit]
    return {
        "object": "list",
        "url": url,
        "has_more": len(ordered) > limit,
        "data": [transform(o) for o in page],
    }


def _expand(params: dict[str, Any]) -> set[str]:
    expand = params.get("expand") or []
    return set(expand if isinstance(expand, list) else [expand])


def _handle(
    handler: Callable[[StripeState, dict[str, Any]], dict[str, Any]],
    *,
    idempotent: bool = False,
) -> Response:
    state: StripeState = vendor_state("stripe")
    version = request.headers.get("Stripe-Version")
    if version:
        state.versions_seen.append(version)
    try:
        _authenticate(state)
        # The SDK sends GET and DELETE params in the query string, POST params in the form body.
        params = parse_params(request.args if request.method in ("GET", "DELETE") else request.form)
    except StripeHTTPError as exc:
        return _json(exc.status, exc.body())

    key = request.headers.get("Idempotency-Key") if idempotent else None
    if not key:
        try:
            return _json(200, handler(state, params))
        except StripeHTTPError as exc:
            return _json(exc.status, exc.body())

    fingerprint = json.dumps([request.method, request.path, params], sort_keys=True)
    echo = {"Idempotency-Key": key}
    with state.lock:
        stored = state.idempotency.get(key)
        if stored is None and key in state.in_flight:
            conflict = StripeHTTPError(
                409,
                "There is currently another in-progress request using this Idempotent Key (that probably means "
                "you submitted twice, and the other request is still going through): "
                f"{key}. Please try again later.",
                type_="idempotency_error",
            )
            return _json(409, conflict.body(), echo)
        if stored is None:
            state.in_flight.add(key)
    if stored is not None:
        if stored.fingerprint != fingerprint:
            mismatch = StripeHTTPError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they were first used with. "
                f"Try using a key other than '{key}' if you meant to execute a different request.",
                type_="idempotency_error",
            )
            return _json(400, mismatch.body(), echo)
        return _json(stored.status, stored.body, {**echo, "Idempotent-Replayed": "true"})
    try:
        try:
            body = handler(state, params)
        except StripeHTTPError as exc:
            # Validation failures are not saved: the same key can be retried with fixed params.
            return _json(exc.status, exc.body(), echo)
        with state.lock:
            state.idempotency[key] = StoredResponse(fingerprint, 200, body)
        return _json(200, body, echo)
    finally:
        with state.lock:
            state.in_flight.discard(key)


# --------------------------------------------------------------------------- endpoints


def _customer(state: StripeState, customer_id: str, param: str = "id") -> dict[str, Any]:
    customer = state.customers.get(customer_id)
    if customer is None:
        raise _missing("customer", customer_id, param)
    return customer


def _subscription(state: StripeState, subscription_id: str) -> dict[str, Any]:
    subscription = state.subscriptions.get(subscription_id)
    if subscription is None:
        raise _missing("subscription", subscription_id)
    return subscription


@blueprint.get("/v1/customers/<customer_id>")
def get_customer(customer_id: str) -> Response:
    return _handle(lambda state, _params: _present(_customer(state, customer_id)))


@blueprint.get("/v1/subscriptions")
def list_subscriptions() -> Response:
    def run(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
        status = params.get("status")
        if status is not None and status not in SUBSCRIPTION_STATUSES:
            raise StripeHTTPError(
                400, f"Invalid status: must be one of {', '.join(sorted(SUBSCRIPTION_STATUSES))}", param="status"
            )
        items = list(state.subscriptions.values())
        if params.get("customer"):
            items = [s for s in items if s["customer"] == params["customer"]]
        if status is None:
            # Stripe's default: everything that has not been canceled.
            items = [s for s in items if s["status"] != "canceled"]
        elif status == "ended":
            items = [s for s in items if s["status"] in ("canceled", "incomplete_expired")]
        elif status != "all":
            items = [s for s in items if s["status"] == status]
        return _list(items, "/v1/subscriptions", params, "subscription")

    return _handle(run)


@blueprint.get("/v1/subscriptions/<subscription_id>")
def get_subscription(subscription_id: str) -> Response:
    return _handle(lambda state, _params: _present(_subscription(state, subscription_id)))


def _cancellation_details(subscription: dict[str, Any], params: dict[str, Any]) -> None:
    details = params.get("cancellation_details")
    if details is None:
        return
    if not isinstance(details, dict):
        raise StripeHTTPError(400, "Invalid hash", param="cancellation_details")
    feedback = details.get("feedback")
    if feedback not in (None, "") and feedback not in CANCELLATION_FEEDBACK:
        raise StripeHTTPError(
            400,
            f"Invalid cancellation_details[feedback]: must be one of {', '.join(sorted(CANCELLATION_FEEDBACK))}",
            param="cancellation_details[feedback]",
        )
    current = subscription["cancellation_details"]
    if "comment" in details:
        current["comment"] = details["comment"] or None
    if "feedback" in details:
        current["feedback"] = feedback or None


@blueprint.post("/v1/subscriptions/<subscription_id>")
def update_subscription(subscription_id: str) -> Response:
    def run(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
        with state.lock:
            subscription = _subscription(state, subscription_id)
            at_period_end = _bool(params, "cancel_at_period_end")
            cancel_at = _int(params, "cancel_at")
            metadata = _metadata(params)
            changes_billing = at_period_end is not None or "cancel_at" in params
            if subscription["status"] == "canceled" and changes_billing:
                raise StripeHTTPError(
                    400, "A canceled subscription can only update its cancellation_details and metadata."
                )
            if at_period_end and cancel_at is not None:
                raise StripeHTTPError(
                    400,
                    "You may only specify one of these parameters: cancel_at, cancel_at_period_end.",
                    param="cancel_at",
                )
            period_end = subscription["items"]["data"][0]["current_period_end"]
            if cancel_at is not None and cancel_at <= int(time.time()):
                raise StripeHTTPError(400, "cancel_at must be in the future.", param="cancel_at")
            if at_period_end is True:
                subscription["cancel_at_period_end"] = True
                subscription["cancel_at"] = period_end
            elif at_period_end is False:
                subscription["cancel_at_period_end"] = False
                subscription["cancel_at"] = None
            if cancel_at is not None:
                subscription["cancel_at_period_end"] = False
                subscription["cancel_at"] = cancel_at
            elif params.get("cancel_at") == "":
                subscription["cancel_at"] = None
            if subscription["cancel_at"] is not None:
                subscription["canceled_at"] = int(time.time())
                subscription["cancellation_details"]["reason"] = "cancellation_requested"
            elif changes_billing:
                subscription["canceled_at"] = None
                subscription["cancellation_details"] = {"comment": None, "feedback": None, "reason": None}
            _cancellation_details(subscription, params)
            if metadata is not None:
                subscription["metadata"].update(metadata)
            return _present(subscription)

    return _handle(run, idempotent=True)


@blueprint.delete("/v1/subscriptions/<subscription_id>")
def cancel_subscription(subscription_id: str) -> Response:
    def run(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
        with state.lock:
            subscription = _subscription(state, subscription_id)
            if subscription["status"] == "canceled":
                raise StripeHTTPError(
                    400, f"This subscription has already been canceled: '{subscription_id}'", param="id"
                )
            now = int(time.time())
            subscription["status"] = "canceled"
            subscription["canceled_at"] = now
            subscription["ended_at"] = now
            subscription["cancellation_details"]["reason"] = "cancellation_requested"
            _cancellation_details(subscription, params)
            return _present(subscription)

    return _handle(run)


@blueprint.get("/v1/invoices")
def list_invoices() -> Response:
    def run(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
        status = params.get("status")
        if status is not None and status not in INVOICE_STATUSES:
            raise StripeHTTPError(
                400, f"Invalid status: must be one of {', '.join(sorted(INVOICE_STATUSES))}", param="status"
            )
        items = list(state.invoices.values())
        if params.get("customer"):
            items = [i for i in items if i["customer"] == params["customer"]]
        if status:
            items = [i for i in items if i["status"] == status]
        return _list(items, "/v1/invoices", params, "invoice")

    return _handle(run)


def _present_intent(state: StripeState, intent: dict[str, Any], expand: set[str], prefix: str) -> dict[str, Any]:
    out = _present(intent)
    if f"{prefix}latest_charge" in expand and out["latest_charge"]:
        out["latest_charge"] = _present(state.charges[out["latest_charge"]])
    return out


@blueprint.get("/v1/payment_intents")
def list_payment_intents() -> Response:
    def run(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
        expand = _expand(params)
        items = list(state.payment_intents.values())
        if params.get("customer"):
            items = [p for p in items if p["customer"] == params["customer"]]
        return _list(
            items, "/v1/payment_intents", params, "payment_intent", lambda p: _present_intent(state, p, expand, "data.")
        )

    return _handle(run)


@blueprint.get("/v1/payment_intents/<intent_id>")
def get_payment_intent(intent_id: str) -> Response:
    def run(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
        intent = state.payment_intents.get(intent_id)
        if intent is None:
            raise _missing("payment_intent", intent_id)
        return _present_intent(state, intent, _expand(params), "")

    return _handle(run)


@blueprint.post("/v1/refunds")
def create_refund() -> Response:
    def run(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
        with state.lock:
            intent_id = params.get("payment_intent")
            charge_id = params.get("charge")
            if not intent_id and not charge_id:
                raise StripeHTTPError(
                    400, "One of the following params should be provided for this request: charge or payment_intent."
                )
            if intent_id:
                intent = state.payment_intents.get(intent_id)
                if intent is None:
                    raise _missing("payment_intent", intent_id, "payment_intent")
                if intent["status"] != "succeeded" or not intent["latest_charge"]:
                    raise StripeHTTPError(
                        400,
                        f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                        code="charge_not_refundable",
                        param="payment_intent",
                    )
                charge = state.charges[intent["latest_charge"]]
            else:
                if str(charge_id) not in state.charges:
                    raise _missing("charge", str(charge_id), "charge")
                charge = state.charges[str(charge_id)]
            reason = params.get("reason")
            if reason is not None and reason not in REFUND_REASONS:
                raise StripeHTTPError(
                    400, f"Invalid reason: must be one of {', '.join(sorted(REFUND_REASONS))}", param="reason"
                )
            remaining = charge["amount_captured"] - charge["amount_refunded"]
            if remaining <= 0:
                raise StripeHTTPError(
                    400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
                )
            amount = _int(params, "amount")
            if amount is None:
                amount = remaining
            if amount <= 0:
                raise StripeHTTPError(400, "Invalid positive integer", param="amount")
            if amount > remaining:
                raise StripeHTTPError(
                    400,
                    f"Refund amount (${amount / 100:,.2f}) is greater than unrefunded amount on charge "
                    f"(${remaining / 100:,.2f})",
                    code="amount_too_large",
                    param="amount",
                )
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
            refund = {
                "id": state.new_id("re"),
                "object": "refund",
                "amount": amount,
                "currency": charge["currency"],
                "charge": charge["id"],
                "payment_intent": charge["payment_intent"],
                "reason": reason,
                "status": "succeeded",
                "balance_transaction": state.new_id("txn"),
                "created": int(time.time()),
                "failure_reason": None,
                "metadata": _metadata(params) or {},
                "receipt_number": None,
                "destination_details": {"type": "card", "card": {"type": "refund"}},
            }
            state.refunds[refund["id"]] = refund
            return _present(refund)

    return _handle(run, idempotent=True)


@blueprint.get("/v1/refunds")
def list_refunds() -> Response:
    def run(state: StripeState, params: dict[str, Any]) -> dict[str, Any]:
        items = list(state.refunds.values())
        if params.get("payment_intent"):
            if params["payment_intent"] not in state.payment_intents:
                raise _missing("payment_intent", params["payment_intent"], "payment_intent")
            items = [r for r in items if r["payment_intent"] == params["payment_intent"]]
        if params.get("charge"):
            items = [r for r in items if r["charge"] == params["charge"]]
        return _list(items, "/v1/refunds", params, "refund")

    return _handle(run)


@blueprint.route("/v1/<path:rest>", methods=["GET", "POST", "DELETE"])
def unknown(rest: str) -> Response:
    def run(_state: StripeState, _params: dict[str, Any]) -> dict[str, Any]:
        raise StripeHTTPError(404, f"Unrecognized request URL ({request.method}: /v1/{rest}).")

    return _handle(run)


@blueprint.get("/i/<invoice_id>")
def hosted_invoice(invoice_id: str) -> Response:
    """The hosted invoice page a client pays on (no auth, like Stripe's)."""
    state: StripeState = vendor_state("stripe")
    invoice = state.invoices.get(invoice_id)
    if invoice is None:
        return Response("Invoice not found", status=404, mimetype="text/plain")
    amount = f"{invoice['amount_remaining'] / 100:,.2f} {invoice['currency'].upper()}"
    html = (
        "<!doctype html><title>Invoice {n}</title><h1>Invoice {n}</h1>"
        "<p>Amount due: {a}</p><p>Status: {s}</p><p>(Stripe stand-in: no payment is taken.)</p>"
    ).format(n=invoice["number"], a=amount, s=invoice["status"])
    return Response(html, mimetype="text/html")

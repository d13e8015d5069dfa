"""The billing provider (Stripe), behind a small domain-facing interface.

Uses the official `stripe` SDK with the API version pinned to 2025-03-31.basil (shapes differ
between versions: basil moved period dates onto subscription items). No Stripe object leaves
this module: callers get the small models below.

Amounts are integers in the currency's smallest unit ("cents"), exactly as Stripe sends them,
always next to their ISO currency code; `to_decimal` / `format_amount` convert for display.
The SDK is imported when a client is constructed, not when this module is (it costs ~86 ms and
only the billing steps need it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from savedesk.errors import RateLimited, SaveDeskError, TransientError, VendorError

if TYPE_CHECKING:
    from types import ModuleType

    from stripe.params import RefundCreateParams, SubscriptionUpdateParams

STRIPE_API_VERSION = "2025-03-31.basil"
DEFAULT_BASE_URL = "https://api.stripe.com"

CancellationFeedback = Literal[
    "customer_service",
    "low_quality",
    "missing_features",
    "other",
    "switched_service",
    "too_complex",
    "too_expensive",
    "unused",
]
RefundReason = Literal["duplicate", "fraudulent", "requested_by_customer"]

# Statuses after which a subscription never bills again.
ENDED_STATUSES = frozenset({"canceled", "incomplete_expired"})
# Stripe's zero-decimal currencies: the amount is already in whole units.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Subscription(_Model):
    id: str
    status: str
    cancel_at_period_end: bool
    cancel_at: date | None
    # The (UTC) date the current period ends, i.e. the next renewal.
    current_period_end: date
    # Per billing interval, in cents, for all items.
    amount: int
    currency: str

    @property
    def ended(self) -> bool:
        return self.status in ENDED_STATUSES

    @property
    def billing_stopped(self) -> bool:
        """No further renewal: ended, or set to end at a date."""
        return self.ended or self.cancel_at is not None


class Invoice(_Model):
    id: str
    number: str | None
    amount_remaining: int
    currency: str
    due_date: date | None
    hosted_invoice_url: str | None


class Payment(_Model):
    payment_intent: str
    amount: int
    amount_refunded: int
    currency: str
    created: datetime

    @property
    def refundable(self) -> int:
        return self.amount - self.amount_refunded


class Refund(_Model):
    id: str
    amount: int
    status: str
    currency: str
    payment_intent: str | None = None
    metadata: dict[str, str] = {}


def to_decimal(amount_cents: int, currency: str) -> Decimal:
    """Cents to major units: 120000 usd → Decimal("1200.00")."""
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return Decimal(amount_cents)
    return (Decimal(amount_cents) / 100).quantize(Decimal("0.01"))


def format_amount(amount_cents: int, currency: str) -> str:
    """For emails and Slack: 400000 usd → "4,000.00 USD"."""
    value = to_decimal(amount_cents, currency)
    text = f"{value:,.0f}" if currency.lower() in ZERO_DECIMAL_CURRENCIES else f"{value:,.2f}"
    return f"{text} {currency.upper()}"


def end_of_day_utc(day: date) -> int:
    return int(datetime.combine(day, time(23, 59, 59), tzinfo=UTC).timestamp())


def _date(timestamp: int | None) -> date | None:
    return datetime.fromtimestamp(timestamp, UTC).date() if timestamp else None


class BillingClient:
    """Stripe, as the offboarding steps need it: stop billing, outstanding invoices, refunds."""

    # Stripe's maximum page size; a class attribute so tests can page through small lists.
    page_size = 100

    def __init__(self, api_key: str, base_url: str = DEFAULT_BASE_URL, timeout: float = 10.0) -> None:
        import stripe

        self._stripe: ModuleType = stripe
        self._client = stripe.StripeClient(
            api_key,
            stripe_version=STRIPE_API_VERSION,
            base_addresses={"api": base_url.rstrip("/")},
            # Retries belong to the workflow (Retry with backoff); an idempotency key makes them safe.
            max_network_retries=0,
            http_client=_sync_httpx_client(stripe, timeout),
        )

    # ------------------------------------------------------------------ subscriptions

    def subscription(self, subscription_id: str) -> Subscription:
        return _subscription(self._call(lambda: self._client.v1.subscriptions.retrieve(subscription_id)))

    def active_subscriptions(self, customer_id: str) -> list[Subscription]:
        """Every subscription that can still bill (Stripe's default list leaves out canceled ones)."""
        page = self._call(
            lambda: self._client.v1.subscriptions.list({"customer": customer_id, "limit": self.page_size})
        )
        subscriptions = [_subscription(s) for s in self._all(page)]
        return [s for s in subscriptions if not s.ended]

    def stop_billing(
        self,
        subscription_id: str,
        at: date | None,
        idempotency_key: str,
        comment: str | None = None,
        feedback: CancellationFeedback | None = None,
        metadata: dict[str, str] | None = None,
    ) -> Subscription:
        """Stop renewals: at the period end (`at` None) or at the end of day `at` (UTC, today or later).

        The subscription keeps running until then, so the client gets what they paid for.
        Already canceled counts as done: re-running the step must not fail on its own success.
        """
        current = self.subscription(subscription_id)
        if current.ended:
            return current
        params: SubscriptionUpdateParams = {}
        if at is None:
            params["cancel_at_period_end"] = True
        else:
            params["cancel_at"] = end_of_day_utc(at)
        if comment or feedback:
            params["cancellation_details"] = {}
            if comment:
                params["cancellation_details"]["comment"] = comment
            if feedback:
                params["cancellation_details"]["feedback"] = feedback
        if metadata:
            params["metadata"] = metadata
        try:
            updated = self._call(
                lambda: self._client.v1.subscriptions.update(
                    subscription_id, params, {"idempotency_key": idempotency_key}
                )
            )
        except VendorError:
            # Canceled between our read and our update (e.g. by someone in the dashboard).
            again = self.subscription(subscription_id)
            if again.ended:
                return again
            raise
        return _subscription(updated)

    # ------------------------------------------------------------------ invoices

    def open_invoices(self, customer_id: str) -> list[Invoice]:
        """Finalized, unpaid invoices, newest first."""
        page = self._call(
            lambda: self._client.v1.invoices.list({"customer": customer_id, "status": "open", "limit": self.page_size})
        )
        return [
            Invoice(
                id=i["id"],
                number=i.get("number"),
                amount_remaining=i["amount_remaining"],
                currency=i["currency"],
                due_date=_date(i.get("due_date")),
                hosted_invoice_url=i.get("hosted_invoice_url"),
            )
            for i in self._all(page)
        ]

    # ------------------------------------------------------------------ payments and refunds

    def refundable_payments(self, customer_id: str) -> list[Payment]:
        """Succeeded payments with something left to refund, newest first."""
        page = self._call(
            lambda: self._client.v1.payment_intents.list(
                # The charge carries amount_refunded; expanding it saves a call per payment.
                {"customer": customer_id, "limit": self.page_size, "expand": ["data.latest_charge"]}
            )
        )
        payments = []
        for intent in self._all(page):
            charge = intent.get("latest_charge")
            if intent["status"] != "succeeded" or not isinstance(charge, dict):
                continue
            payment = Payment(
                payment_intent=intent["id"],
                amount=charge.get("amount_captured", intent["amount_received"]),
                amount_refunded=charge.get("amount_refunded", 0),
                currency=intent["currency"],
                created=datetime.fromtimestamp(intent["created"], UTC),
            )
            if payment.refundable > 0:
                payments.append(payment)
        return payments

    def refund(
        self,
        payment_intent: str,
        amount_cents: int,
        idempotency_key: str,
        reason: RefundReason = "requested_by_customer",
        metadata: dict[str, str] | None = None,
    ) -> Refund:
        if amount_cents <= 0:
            raise ValueError(f"refund amount must be positive, got {amount_cents}")
        params: RefundCreateParams = {"payment_intent": payment_intent, "amount": amount_cents, "reason": reason}
        if metadata:
            params["metadata"] = metadata
        refund = self._call(lambda: self._client.v1.refunds.create(params, {"idempotency_key": idempotency_key}))
        return _refund(refund)

    def refunds_for(self, payment_intent: str) -> list[Refund]:
        """Refunds already made on a payment: check these before issuing one with a new key."""
        page = self._call(
            lambda: self._client.v1.refunds.list({"payment_intent": payment_intent, "limit": self.page_size})
        )
        return [_refund(r) for r in self._all(page)]

    # ------------------------------------------------------------------ plumbing

    def _all(self, page: Any) -> Iterable[dict[str, Any]]:
        """Every item of a list, following `has_more` (each page is another call, so errors are mapped)."""
        iterator = iter(page.auto_paging_iter())
        while True:
            item = self._call(lambda: next(iterator, None))
            if item is None:
                return
            yield item.to_dict()

    def _call[T](self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except self._stripe.StripeError as exc:
            raise map_stripe_error(exc) from exc


def map_stripe_error(exc: Exception) -> SaveDeskError:
    """Stripe's exception classes → SaveDesk's: transient ones go back to the workflow's Retry."""
    import stripe

    status = getattr(exc, "http_status", None)
    if isinstance(exc, stripe.RateLimitError):
        return RateLimited(f"stripe: rate limited ({status})", retry_after=_retry_after(exc))
    if isinstance(exc, stripe.APIConnectionError):
        return TransientError(f"stripe: network error: {_first_line(exc)}")
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None) or getattr(exc, "code", None)
    message = getattr(error, "message", None) or _first_line(exc)
    # APIError: 5xx, a malformed body, 409 (the same idempotency key still in flight) and 424 all pass with time.
    if isinstance(exc, stripe.APIError) and (status is None or status >= 500 or status < 400 or status in (409, 424)):
        return TransientError(f"stripe: {status} api error: {message}")
    detail = f"{code}: {message}" if code else message
    return VendorError(f"stripe: {status} {type(exc).__name__}: {detail}")


def _retry_after(exc: Exception) -> float | None:
    headers = getattr(exc, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "user_message", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _sync_httpx_client(stripe: ModuleType, timeout: float) -> Any:
    """A sync-only `stripe.HTTPClient` over httpx, with connect and read timeouts.

    The SDK's own HTTPXClient also builds an unused AsyncClient and posts the form body through
    httpx's deprecated `data=<str>`; subclassing HTTPClient is the SDK's documented extension point.
    """
    import httpx

    class SyncHttpxClient(stripe.HTTPClient):  # type: ignore[name-defined]
        name = "savedesk-httpx"

        def __init__(self) -> None:
            super().__init__()
            self._http = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(3.0, timeout)))

        def request(
            self, method: str, url: str, headers: dict[str, str], post_data: Any = None
        ) -> tuple[bytes, int, httpx.Headers]:
            try:
                response = self._http.request(method, url, headers=headers, content=post_data or None)
            except httpx.HTTPError as exc:
                raise stripe.APIConnectionError(
                    f"Network error talking to Stripe: {type(exc).__name__}", should_retry=True
                ) from exc
            return response.content, response.status_code, response.headers

        def close(self) -> None:
            self._http.close()

    return SyncHttpxClient()


def _subscription(obj: Any) -> Subscription:
    data = obj if isinstance(obj, dict) else obj.to_dict()
    # Basil moved the period onto the items; the subscription renews when its last item does.
    items = data["items"]["data"]
    period_end = max(item["current_period_end"] for item in items)
    amount = sum((item["price"].get("unit_amount") or 0) * (item.get("quantity") or 1) for item in items)
    return Subscription(
        id=data["id"],
        status=data["status"],
        cancel_at_period_end=bool(data.get("cancel_at_period_end")),
        cancel_at=_date(data.get("cancel_at")),
        current_period_end=datetime.fromtimestamp(period_end, UTC).date(),
        amount=amount,
        currency=data["currency"],
    )


def _refund(obj: Any) -> Refund:
    data = obj if isinstance(obj, dict) else obj.to_dict()
    return Refund(
        id=data["id"],
        amount=data["amount"],
        status=data["status"],
        currency=data["currency"],
        payment_intent=data.get("payment_intent"),
        metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
    )

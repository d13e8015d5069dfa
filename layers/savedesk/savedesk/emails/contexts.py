"""One typed context per email template, so a caller cannot forget (or misspell) a field.

Values stay raw (date, datetime, Decimal + currency): the templates format them with the
filters registered in `render.py`, so every email formats money and dates the same way.

Two string flavours:
- `Line`: a one-line value (names, company, titles). Any run of whitespace, CR/LF included,
  collapses to one space, because these values end up in subjects and display names,
  where a newline would be a header injection.
- plain `str`: free text the client or the account manager typed (notes, quotes); newlines
  are kept and rendered as paragraphs / line breaks.
"""

import re
from datetime import date
from decimal import Decimal
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, computed_field, model_validator

_WHITESPACE_RUN = re.compile(r"\s+")


def one_line(value: str) -> str:
    """Collapse every whitespace run (CR, LF, tabs, U+2028...) into one space."""
    return _WHITESPACE_RUN.sub(" ", value).strip()


def _web_url(value: str) -> str:
    # A `javascript:` or `data:` link in a button would survive HTML escaping, so check the scheme.
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"expected an http(s) URL, got {value!r}")
    if any(ch.isspace() for ch in value):
        raise ValueError("a URL cannot contain whitespace")
    return value


def _email_address(value: str) -> str:
    local, at, domain = value.partition("@")
    if not at or not local or "." not in domain or any(ch.isspace() or ch in "<>\"'," for ch in value):
        raise ValueError(f"not a plain email address: {value!r}")
    return value


def _currency(value: str) -> str:
    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError(f"expected an ISO 4217 currency code, got {value!r}")
    return code


Line = Annotated[str, AfterValidator(one_line), Field(min_length=1, max_length=300)]
WebUrl = Annotated[str, AfterValidator(_web_url)]
EmailAddress = Annotated[str, AfterValidator(_email_address)]
Currency = Annotated[str, AfterValidator(_currency)]
Money = Annotated[Decimal, Field(max_digits=14, decimal_places=2)]


class _Context(BaseModel):
    """What every email needs: who it is about and who signs it."""

    # defer_build: a function renders one or two templates, so build only those validators
    # (halves this module's import time on a cold start).
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    case_id: Line
    company: Line
    account_manager_name: Line
    account_manager_email: EmailAddress
    agency_name: Line = "Topline"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def account_manager_first_name(self) -> str:
        return self.account_manager_name.split(" ")[0]


class _ClientContext(_Context):
    """Emails to the client's contact."""

    contact_first_name: Line


# --- to the client ---------------------------------------------------------------------------


class AcknowledgementContext(_ClientContext):
    requested_on: date
    personal_note: str = Field(min_length=1, max_length=2000)
    survey_url: WebUrl


class MeetingInvitationContext(_ClientContext):
    booking_url: WebUrl
    proposed_start: AwareDatetime
    duration_minutes: int = Field(default=30, ge=5, le=240)


class GladYoureStayingContext(_ClientContext):
    offer_title: Line
    offer_detail: str = Field(min_length=1, max_length=2000)
    next_steps: list[Line] = Field(min_length=1)


class OpenInvoice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    number: Line
    amount_remaining: Money
    currency: Currency
    due_date: date
    hosted_invoice_url: WebUrl


class PaymentReminderContext(_ClientContext):
    invoices: list[OpenInvoice] = Field(min_length=1)
    currency: Currency

    @model_validator(mode="after")
    def _one_currency(self) -> "PaymentReminderContext":
        # A total across currencies would be meaningless.
        others = {inv.currency for inv in self.invoices} - {self.currency}
        if others:
            raise ValueError(f"all invoices must be in {self.currency}, found {sorted(others)}")
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_due(self) -> Decimal:
        return sum((inv.amount_remaining for inv in self.invoices), Decimal("0"))


class ClosureConfirmationContext(_ClientContext):
    services: list[Line] = Field(min_length=1)
    effective_end_date: date
    billing_stops_after: date
    refund_amount: Money | None = None  # None: no refund is due
    refund_expected_by: date | None = None
    currency: Currency
    topline_access_ends_on: date
    ads_paused_on: date

    @model_validator(mode="after")
    def _refund_has_a_date(self) -> "ClosureConfirmationContext":
        if (self.refund_amount is None) != (self.refund_expected_by is None):
            raise ValueError("refund_amount and refund_expected_by go together")
        return self


class ThankYouContext(_ClientContext):
    personal_message: str = Field(min_length=1, max_length=2000)


# --- internal --------------------------------------------------------------------------------


class ContractPosition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    inside_minimum_term: bool
    minimum_term_months: int = Field(ge=0)
    commitment_end: date
    remaining_obligation: Money
    currency: Currency


class SaveOffer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    title: Line
    answer: str  # the client's answer, in their words or the AM's summary


class TimelineEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    at: AwareDatetime
    step: Line
    what: str


class OwnerReviewContext(_Context):
    recipient_first_name: Line
    tenure_months: int = Field(ge=0)
    mrr_lost: Money
    currency: Currency
    contract: ContractPosition
    reason_categories: list[Line]
    reason_quotes: list[str]
    offers: list[SaveOffer]  # empty: no save meeting took place
    timeline: list[TimelineEntry]
    improvements: list[Line]


class EscalationContext(_Context):
    recipient_first_name: Line
    outcome_due_at: AwareDatetime
    meeting_start: AwareDatetime | None = None  # None: the meeting was never booked
    case_url: WebUrl | None = None


class TeamDebriefContext(_Context):
    coordinator_name: Line
    learning_points: list[Line] = Field(min_length=1)
    proposed_start: AwareDatetime
    duration_minutes: int = Field(default=30, ge=5, le=240)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def coordinator_first_name(self) -> str:
        return self.coordinator_name.split(" ")[0]


# --- the owner's weekly digest -----------------------------------------------------------------


class Amount(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    amount: Money
    currency: Currency


class ReasonTally(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    label: Line
    count: int = Field(ge=1)


class DigestPeriod(BaseModel):
    """One period's numbers (see savedesk.insights for what each one counts)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    label: Line
    opened: int = Field(ge=0)
    saved: int = Field(ge=0)
    cancelled: int = Field(ge=0)
    save_rate_percent: int | None = Field(default=None, ge=0, le=100)  # None: nothing decided yet
    mrr_saved: list[Amount]  # one per currency; never converted
    mrr_lost: list[Amount]
    reasons: list[ReasonTally]


class WaitingCase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    case_id: Line
    company: Line
    account_manager_name: Line
    opened_on: date
    waiting_days: int = Field(ge=0)


class WeeklyDigestContext(BaseModel):
    """Not about one case, so not a `_Context`: no case id, company or account manager of its own."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    agency_name: Line = "Topline"
    recipient_first_name: Line
    week: Line  # ISO week, e.g. 2026-W49
    last_7_days: DigestPeriod
    month_to_date: DigestPeriod
    waiting: list[WaitingCase]

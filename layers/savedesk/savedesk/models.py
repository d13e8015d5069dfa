"""The case and what flows through the workflow, as pydantic models.

The Case is the one document SaveDesk keeps per cancellation; the workflow payload
carries only its id (Step Functions' 256 KB limit), and each step reads what it needs.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

# Single-line text only: a CR or LF in a name or an address could end up in an email header.
SingleLine = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\r\n]*$")
]
OptionalId = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100, pattern=r"^[A-Za-z0-9_.:#-]*$")]

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)


def _email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("not a valid email address")
    return value


Email = Annotated[str, AfterValidator(_email)]


def utcnow() -> datetime:
    return datetime.now(UTC)


class CaseStatus(StrEnum):
    OPEN = "OPEN"  # request received, save attempt under way
    SAVED = "SAVED"  # the meeting kept the client; no offboarding
    OFFBOARDING = "OFFBOARDING"  # the client leaves; the checklist is running
    CLOSED = "CLOSED"  # every offboarding step done
    FAILED = "FAILED"  # a step failed after its retries; ops can redrive


class PostalAddress(BaseModel):
    model_config = ConfigDict(frozen=True)

    line1: SingleLine
    line2: Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\r\n]*$")] = ""
    city: SingleLine
    region: Annotated[str, StringConstraints(max_length=100, pattern=r"^[^\r\n]*$")] = ""
    postal_code: Annotated[str, StringConstraints(max_length=20, pattern=r"^[^\r\n]*$")] = ""
    country: Annotated[str, StringConstraints(min_length=2, max_length=2)] = "US"


class ClientAccount(BaseModel):
    """What the CRM tells us about the client who clicked cancel."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    company: SingleLine
    contact_name: SingleLine
    contact_email: Email
    account_manager_name: SingleLine
    account_manager_email: Email
    account_manager_slack_id: OptionalId | None = None
    mrr: Annotated[Decimal, Field(ge=0, le=10_000_000, decimal_places=2)]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "USD"
    contract_start: date | None = None
    term_months: Annotated[int, Field(ge=0, le=120)] | None = None
    notice_days: Annotated[int, Field(ge=0, le=365)] | None = None
    prepaid_through: date | None = None  # paid up to and including this day (a prepaid quarter or year)
    slack_channel: OptionalId | None = None
    clickup_space_id: OptionalId | None = None
    clickup_folder_id: OptionalId | None = None
    billing_customer_id: OptionalId | None = None
    topline_account_id: OptionalId | None = None
    mailing_address: PostalAddress | None = None
    cancellation_reason: Annotated[str, StringConstraints(max_length=2000)] | None = None

    @property
    def contact_first_name(self) -> str:
        return self.contact_name.split()[0]

    @property
    def account_manager_first_name(self) -> str:
        return self.account_manager_name.split()[0]


class ExitReasons(BaseModel):
    """Why the client is leaving: a fixed taxonomy plus their own words."""

    codes: list[str] = Field(default_factory=list)
    comments: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)  # crm, exit_survey, meeting


class MeetingOutcome(BaseModel):
    """What the account manager recorded after the save meeting."""

    outcome: Literal["saved", "cancel", "reschedule"]
    offer_code: str | None = None
    offer_title: str | None = None
    mrr_saved: Decimal | None = None
    recorded_by: str | None = None
    notes: str | None = None
    reason_codes: list[str] = Field(default_factory=list)
    next_meeting_at: datetime | None = None
    recorded_at: datetime = Field(default_factory=utcnow)


class Case(BaseModel):
    case_id: str
    status: CaseStatus = CaseStatus.OPEN
    source: str
    delivery_id: str
    opened_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    account: ClientAccount
    reasons: ExitReasons = Field(default_factory=ExitReasons)
    contract_review: dict[str, Any] | None = None
    meeting: MeetingOutcome | None = None
    refund_decision: dict[str, Any] | None = None  # {"approved", "decided_by", "note", "decided_at"}
    offboarding_reason: Literal["cancel", "timeout"] | None = None
    closed_at: datetime | None = None
    version: int = 0


class StepResult(BaseModel):
    """What a step recorded when it finished: the workflow gets a small summary, the case keeps all."""

    step: str
    status: Literal["COMPLETED"] = "COMPLETED"
    summary: str
    details: dict[str, Any] = Field(default_factory=dict)
    finished_at: datetime = Field(default_factory=utcnow)

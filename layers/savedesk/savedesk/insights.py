"""The roll-up of cancellations for the owner: pure functions over cases, no AWS.

Definitions (the dashboard and the weekly digest say the same thing because they share these):

- **outcome** of a case:
  - `saved`: status SAVED, or a case that is not yet final whose meeting outcome is "saved"
    (a FAILED RecordSave still kept the client);
  - `cancelled`: status OFFBOARDING or CLOSED, or a not-yet-final case (OPEN, FAILED) that is
    on its way out: the meeting outcome is "cancel" or the wait timed out (`offboarding_reason`).
    A FAILED offboarding step does not bring the client back, so it counts as cancelled;
  - `open`: no decision yet (waiting for the meeting outcome, or failed before one was recorded).
- **save rate** = saved / (saved + cancelled). Open cases are left out, and a period with no
  decided case has no save rate (None, shown as "–"), rather than a misleading 0 %.
- **MRR saved**: for each saved case, the MRR the account manager recorded as kept
  (`meeting.mrr_saved`, which may be lower after a discount), else the account's MRR.
- **MRR lost**: for each cancelled case, the account's MRR.
- **Money is kept per currency** (`{"USD": Decimal, "EUR": Decimal}`), never converted: a rate
  picked by SaveDesk would make the owner's numbers drift from the books.
- **reasons**: the taxonomy codes of every case in the period (exit survey + meeting), each code
  counted once per case, with its label from `reasons.REASON_CODES`; saved cases count too, since
  the reason is why the client asked to leave.

Two ways to put cases into a period:
- `cohort` (the monthly roll-up and the dashboard): by `opened_at`. A month's save rate is then
  "of the requests that came in that month", and it can still change while its cases are open.
- `activity` (the weekly digest): opened = requests that came in during the window; saved and
  cancelled = decisions taken during it, dated by `decided_at`. A week is shorter than a save
  attempt, so counting that week's requests only would show nearly everything as open.

All times are compared in UTC; months are calendar months in UTC.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from savedesk.models import Case, CaseStatus
from savedesk.reasons import REASON_CODES

Outcome = Literal["saved", "cancelled", "open"]

_FINAL_SAVED = {CaseStatus.SAVED}
_LEAVING = {CaseStatus.OFFBOARDING, CaseStatus.CLOSED}


def outcome(case: Case) -> Outcome:
    if case.status in _FINAL_SAVED:
        return "saved"
    if case.status in _LEAVING:
        return "cancelled"
    meeting = case.meeting.outcome if case.meeting else None
    if case.offboarding_reason is not None or meeting == "cancel":
        return "cancelled"
    if meeting == "saved":
        return "saved"
    return "open"


def decided_at(case: Case) -> datetime | None:
    """When the save attempt ended: the meeting outcome's time, else (a timeout) when the case closed
    or last changed. None for an open case."""
    if outcome(case) == "open":
        return None
    if case.meeting is not None and case.meeting.outcome in ("saved", "cancel"):
        return _utc(case.meeting.recorded_at)
    return _utc(case.closed_at or case.updated_at)


def mrr_saved(case: Case) -> Decimal:
    recorded = case.meeting.mrr_saved if case.meeting else None
    return recorded if recorded is not None else case.account.mrr


def reason_codes(case: Case) -> list[str]:
    """Survey and meeting codes of one case, each once, first seen first."""
    meeting_codes = case.meeting.reason_codes if case.meeting else []
    return list(dict.fromkeys([*case.reasons.codes, *meeting_codes]))


@dataclass(frozen=True)
class ReasonCount:
    code: str
    label: str
    count: int


@dataclass(frozen=True)
class OpenCase:
    case_id: str
    company: str
    account_manager: str
    opened_at: datetime
    waiting_days: int


@dataclass(frozen=True)
class Period:
    """The numbers of one period [start, end)."""

    label: str
    start: datetime
    end: datetime
    opened: int = 0
    saved: int = 0
    cancelled: int = 0
    still_open: int = 0  # cohort: cases of this period without a decision yet
    mrr_saved: dict[str, Decimal] = field(default_factory=dict)
    mrr_lost: dict[str, Decimal] = field(default_factory=dict)
    reasons: list[ReasonCount] = field(default_factory=list)

    @property
    def decided(self) -> int:
        return self.saved + self.cancelled

    @property
    def save_rate(self) -> float | None:
        return self.saved / self.decided if self.decided else None


@dataclass(frozen=True)
class Rollup:
    months: list[Period]  # oldest first, every month of the window, empty ones included
    total: Period
    currencies: list[str]  # every currency with money in the window, most MRR first


# --- building periods ------------------------------------------------------------------------


def _utc(value: datetime) -> datetime:
    # Models default to aware UTC times; a naive one (old data) is taken as UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _within(value: datetime | None, start: datetime, end: datetime) -> bool:
    return value is not None and start <= _utc(value) < end


def _add(totals: dict[str, Decimal], currency: str, amount: Decimal) -> None:
    totals[currency] = totals.get(currency, Decimal("0")) + amount


def _largest_first(totals: dict[str, Decimal]) -> dict[str, Decimal]:
    # The agency's main currency reads first ("$92,820.00, 24,820.00 EUR").
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))


def top_reasons(cases: Iterable[Case], limit: int | None = None) -> list[ReasonCount]:
    counts = Counter(code for case in cases for code in reason_codes(case))
    # Most frequent first; ties in the taxonomy's order, so the list is stable between runs.
    order = {code: i for i, code in enumerate(REASON_CODES)}
    ranked = sorted(counts.items(), key=lambda item: (-item[1], order.get(item[0], len(order)), item[0]))
    return [ReasonCount(code, REASON_CODES.get(code, code), n) for code, n in ranked[:limit]]


def cohort(cases: Iterable[Case], start: datetime, end: datetime, label: str) -> Period:
    """The cases opened in [start, end) and how each of them ended (so far)."""
    members = [c for c in cases if _within(c.opened_at, start, end)]
    saved_mrr: dict[str, Decimal] = {}
    lost_mrr: dict[str, Decimal] = {}
    results = Counter(outcome(c) for c in members)
    for case in members:
        if outcome(case) == "saved":
            _add(saved_mrr, case.account.currency, mrr_saved(case))
        elif outcome(case) == "cancelled":
            _add(lost_mrr, case.account.currency, case.account.mrr)
    return Period(
        label=label,
        start=start,
        end=end,
        opened=len(members),
        saved=results["saved"],
        cancelled=results["cancelled"],
        still_open=results["open"],
        mrr_saved=_largest_first(saved_mrr),
        mrr_lost=_largest_first(lost_mrr),
        reasons=top_reasons(members),
    )


def activity(cases: Iterable[Case], start: datetime, end: datetime, label: str) -> Period:
    """What happened in [start, end): requests opened, and save attempts decided, in that window.

    Reasons are those of the cases decided in the window (why the ones who left, left)."""
    cases = list(cases)
    opened = [c for c in cases if _within(c.opened_at, start, end)]
    decided = [c for c in cases if _within(decided_at(c), start, end)]
    saved = [c for c in decided if outcome(c) == "saved"]
    cancelled = [c for c in decided if outcome(c) == "cancelled"]
    saved_mrr: dict[str, Decimal] = {}
    lost_mrr: dict[str, Decimal] = {}
    for case in saved:
        _add(saved_mrr, case.account.currency, mrr_saved(case))
    for case in cancelled:
        _add(lost_mrr, case.account.currency, case.account.mrr)
    return Period(
        label=label,
        start=start,
        end=end,
        opened=len(opened),
        saved=len(saved),
        cancelled=len(cancelled),
        still_open=sum(1 for c in opened if outcome(c) == "open"),
        mrr_saved=_largest_first(saved_mrr),
        mrr_lost=_largest_first(lost_mrr),
        reasons=top_reasons(decided),
    )


# --- calendar helpers ------------------------------------------------------------------------


def month_start(value: datetime | date) -> datetime:
    return datetime(value.year, value.month, 1, tzinfo=UTC)


def next_month(start: datetime) -> datetime:
    return datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)


def iso_week(value: datetime) -> str:
    """`2026-W49`: the ISO week `value` falls in (the digest's idempotency key)."""
    year, week, _ = _utc(value).isocalendar()
    return f"{year}-W{week:02d}"


# --- the two views ---------------------------------------------------------------------------


def monthly(cases: Iterable[Case], now: datetime, months: int = 12) -> Rollup:
    """The last `months` calendar months up to and including `now`'s month, by opened_at."""
    if months < 1:
        raise ValueError("months must be at least 1")
    cases = list(cases)
    first = month_start(_utc(now))
    for _ in range(months - 1):
        first = month_start(first - timedelta(days=1))
    periods: list[Period] = []
    start = first
    while len(periods) < months:
        end = next_month(start)
        periods.append(cohort(cases, start, end, f"{start:%b %Y}"))
        start = end
    total = cohort(cases, first, start, f"{first:%b %Y} – {periods[-1].start:%b %Y}")
    return Rollup(months=periods, total=total, currencies=currencies(total))


def currencies(period: Period) -> list[str]:
    amounts: dict[str, Decimal] = {}
    for totals in (period.mrr_saved, period.mrr_lost):
        for currency, amount in totals.items():
            _add(amounts, currency, amount)
    return sorted(amounts, key=lambda c: (-amounts[c], c))


@dataclass(frozen=True)
class Digest:
    week: str  # the ISO week of `now`: the digest's idempotency key
    last_7_days: Period
    month_to_date: Period
    waiting: list[OpenCase]  # open cases, longest waiting first


def waiting_cases(cases: Iterable[Case], now: datetime) -> list[OpenCase]:
    now = _utc(now)
    found = [
        OpenCase(
            case_id=c.case_id,
            company=c.account.company,
            account_manager=c.account.account_manager_name,
            opened_at=_utc(c.opened_at),
            waiting_days=max(0, (now - _utc(c.opened_at)).days),
        )
        for c in cases
        if outcome(c) == "open" and _utc(c.opened_at) <= now
    ]
    return sorted(found, key=lambda o: (o.opened_at, o.case_id))


def weekly(cases: Iterable[Case], now: datetime) -> Digest:
    """The digest's numbers: the 7 days before `now`, the month to date, and who is still waiting."""
    cases = list(cases)
    now = _utc(now)
    week_start = now - timedelta(days=7)
    return Digest(
        # One digest per ISO week it is sent in: Monday's scheduled run and a manual send later that
        # week share a key, so the owner never gets two in one week.
        week=iso_week(now),
        last_7_days=activity(cases, week_start, now, f"{week_start:%d %b} – {now - timedelta(days=1):%d %b %Y}"),
        month_to_date=activity(cases, month_start(now), now, f"{now:%B %Y} to date"),
        waiting=waiting_cases(cases, now),
    )

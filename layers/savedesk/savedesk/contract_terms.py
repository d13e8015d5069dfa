"""The contract-terms engine: checklist item 3, "Review the contract terms".

Given a client's contract, the day they asked to cancel and the agency's refund policy,
`review_contract` works out what the account manager needs before the save meeting: is
the client still inside a minimum term, when does the contract end, what do they still
owe, are they due a refund (and does it need a human's approval), which save offers fit,
and a short summary the account manager can read aloud.

Pure functions only: no I/O, no AWS, no clock (the caller passes the cancel date).
Money is `Decimal` with 2 places (rounded half-up once, at the end of each sum), dates
are `datetime.date`, and every date range below is *inclusive* of both ends.

Calendar rules
--------------
* `add_months(d, n)` moves by whole calendar months and clamps to the month's last day:
  31 Jan + 1 month = 28 Feb (29 Feb in a leap year); 29 Feb 2024 + 12 months = 28 Feb 2025.
* Billing periods renew on the contract's *billing day* (`Contract.billing_day`, default
  the start date's day), clamped to short months: with a billing day of 31 the periods
  are 31 Jan-27 Feb, 28 Feb-30 Mar, 31 Mar-29 Apr, ... (Stripe's anchor behaviour).
  Before the start date there are no periods and nothing is billed.
* A day's price is the monthly fee divided by the number of days of the billing period
  it falls in, so a whole period always costs exactly the monthly fee.

Term rules
----------
* `commitment_end` = `add_months(start, minimum_term_months) - 1 day`, the last day the
  minimum term covers (start 1 Jul 2026, 6 months -> 31 Dec 2026). None when there is no
  contract on file or the contract is month-to-month (minimum term None or 0).
* The client is *inside the minimum term* when the cancel date is on or before
  `commitment_end`. A cancel date before the start date counts as inside: the signed term
  binds even though service has not begun.
* `notice_end` = cancel date + `notice_days` days.
* `effective_end_date` = the later of `notice_end` and `commitment_end`, rounded *up* to
  the last day of the billing period it falls in (a client never leaves mid-period; when
  the billing day is the start date's day, `commitment_end` already is a period end).
  With no contract on file the billing day is `Contract.billing_day`, else the day after
  `prepaid_through`; when neither is known nothing is rounded. A date before the start
  date is not rounded either (no period has begun). This is the contractual end date.

Money rules (see `RefundPolicy` for the knobs)
-----------------------------------------------
* `prepaid_through` is the last day already paid for; None means nothing is paid beyond
  the day before the cancel date (arrears before the cancel date are not this engine's
  business: FollowUpOutstandingPayments chases those).
* `remaining_obligation` is the unpaid value of the days from the cancel date (or the start
  date, if later) through `obligation_through`, plus any early-termination fee.
  `obligation_through` is `effective_end_date` when the policy makes the client pay out the
  minimum term (`early_termination="remaining"`, the default) and the notice end rounded up
  to its billing period when the policy waives the rest of the term ("none") or replaces it
  with a fixed fee ("fee"; the fee is only charged when the term would have run past the
  notice period).
* Refunds: see `RefundPolicy`. The refund and the obligation are reported separately;
  netting one against the other is the billing step's decision.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "Contract",
    "ContractReview",
    "EarlyTermination",
    "LeverCode",
    "RefundBasis",
    "RefundPolicy",
    "SaveLever",
    "add_months",
    "billing_period",
    "commitment_end",
    "format_date",
    "format_money",
    "prorated_value",
    "review_contract",
]

CENT = Decimal("0.01")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ONE_DAY = timedelta(days=1)

EarlyTermination = Literal["remaining", "none", "fee"]
RefundBasis = Literal["none", "full_refund_window", "unused_prepaid"]
LeverCode = Literal["discount", "pause", "scope_down", "strategy_review", "term_credit"]


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------- formatting


def format_money(amount: Decimal, currency: str = "USD") -> str:
    """Format an amount for people: `$4,000.00` for USD, `1,234.00 EUR` for any other currency.

    Rounded half-up to cents; negative amounts read `-$12.50` / `-12.50 EUR`.
    """
    value = _money(Decimal(amount))
    sign = "-" if value < 0 else ""
    digits = f"{abs(value):,.2f}"
    code = currency.upper()
    if code == "USD":
        return f"{sign}${digits}"
    return f"{sign}{digits} {code}"


def format_date(d: date) -> str:
    """Format a date like `31 Dec 2026` (English month abbreviations, whatever the locale)."""
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


# --------------------------------------------------------------------------- calendar


def _days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def add_months(d: date, n: int) -> date:
    """Move `d` by `n` calendar months (negative goes back), clamping to the month's last day.

    `add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)`;
    `add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)`.
    Raises ValueError when the result would leave years 1-9999.
    """
    index = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise ValueError(f"{d.isoformat()} + {n} months is out of range")
    month = month0 + 1
    return date(year, month, min(d.day, _days_in_month(year, month)))


def _boundary(year: int, month: int, billing_day: int) -> date:
    """The day a billing period starts in the given month."""
    return date(year, month, min(billing_day, _days_in_month(year, month)))


def billing_period(day: date, billing_day: int) -> tuple[date, date]:
    """The billing period (first day, last day) that contains `day`.

    Periods start on `billing_day` of each month, clamped to the month's last day.
    """
    if not 1 <= billing_day <= 31:
        raise ValueError("billing_day must be between 1 and 31")
    start = _boundary(day.year, day.month, billing_day)
    if start > day:
        prev = add_months(date(day.year, day.month, 1), -1)
        start = _boundary(prev.year, prev.month, billing_day)
    nxt = add_months(date(start.year, start.month, 1), 1)
    return start, _boundary(nxt.year, nxt.month, billing_day) - _ONE_DAY


def prorated_value(
    first: date, last: date, monthly_fee: Decimal, billing_day: int, not_before: date | None = None
) -> Decimal:
    """What the days `first`..`last` (inclusive) cost, rounded to cents.

    Each day costs the monthly fee divided by the length of its billing period, so a whole
    period costs exactly `monthly_fee`. Days before `not_before` (the start date) are free.
    An empty range is worth 0.00.
    """
    if not_before is not None and first < not_before:
        first = not_before
    if last < first:
        return Decimal("0.00")
    total = Decimal(0)
    cursor = first
    while cursor <= last:
        p_start, p_end = billing_period(cursor, billing_day)
        chunk_end = min(p_end, last)
        used = (chunk_end - cursor).days + 1
        length = (p_end - p_start).days + 1
        total += monthly_fee * used / length
        cursor = chunk_end + _ONE_DAY
    return _money(total)


# --------------------------------------------------------------------------- inputs


class Contract(BaseModel):
    """What the agency has on file for the client's retainer.

    `start_date` None means no contract on file. `minimum_term_months` None or 0 means
    month-to-month. `prepaid_through` is the last day already paid for (inclusive).
    `billing_day` is the day of the month the billing period renews (default: the start
    date's day). `client_name` is only used to make the summary read naturally.
    """

    model_config = ConfigDict(frozen=True)

    start_date: date | None
    minimum_term_months: int | None = Field(default=None, ge=0)
    notice_days: int = Field(default=30, ge=0)
    monthly_fee: Decimal = Field(ge=0)
    currency: str = "USD"
    prepaid_through: date | None = None
    billing_day: int | None = Field(default=None, ge=1, le=31)
    client_name: str | None = None

    @field_validator("monthly_fee")
    @classmethod
    def _cents(cls, value: Decimal) -> Decimal:
        return _money(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValueError("currency must be a 3-letter ISO 4217 code")
        return code

    @property
    def has_minimum_term(self) -> bool:
        return self.start_date is not None and bool(self.minimum_term_months)

    def anchor_day(self) -> int | None:
        """The billing day used for periods: explicit, else the start's day, else after prepaid."""
        if self.billing_day is not None:
            return self.billing_day
        if self.start_date is not None:
            return self.start_date.day
        if self.prepaid_through is not None:
            return (self.prepaid_through + _ONE_DAY).day
        return None


class RefundPolicy(BaseModel):
    """The agency's refund, early-termination and save-offer policy. Defaults in brackets.

    Refunds are decided in this order:

    1. Full-refund window [`full_refund_window_days`=0, i.e. off]: a cancel request made
       before `start + N days` (including before the start) unwinds the contract: nothing
       more is owed and everything paid from the start through `prepaid_through` is refunded.
       This guarantee wins over the minimum-term rule below.
    2. Inside the minimum term [`refund_inside_minimum_term`=False]: no refund while the
       cancel date is inside the minimum term; prepaid time simply counts towards what
       they owe.
    3. Unused prepaid time [`refund_unused_prepaid`=True]: the prorated value of prepaid days
       after `obligation_through` (the last day the client has to pay for) is refunded.
       With the flag off, prepaid time is never refunded.

    A refund above `approval_threshold` [1,000.00] needs a human's approval (equal does not).

    Early termination inside the minimum term [`early_termination`="remaining"]:
    "remaining" - the client pays out the minimum term (through the effective end date);
    "none"      - the rest of the term is waived, they pay the notice period only;
    "fee"       - they pay the notice period plus `early_termination_fee` [0.00], charged
                  only when the term would have run past the notice period.

    Save-offer knobs: `discount_percent` [15] off for `discount_months` [3];
    `allow_pause` [True] for up to `max_pause_months` [2] (1-2), only inside the term;
    `scope_down_ratio` [0.60] of the fee for the smaller package; an obligation of at least
    `large_obligation_months` [2] monthly fees counts as large (then `term_credit` is offered).
    """

    model_config = ConfigDict(frozen=True)

    refund_unused_prepaid: bool = True
    full_refund_window_days: int = Field(default=0, ge=0)
    refund_inside_minimum_term: bool = False
    approval_threshold: Decimal = Field(default=Decimal("1000.00"), ge=0)
    early_termination: EarlyTermination = "remaining"
    early_termination_fee: Decimal = Field(default=Decimal("0.00"), ge=0)
    discount_percent: Decimal = Field(default=Decimal("15"), gt=0, le=100)
    discount_months: int = Field(default=3, ge=1)
    allow_pause: bool = True
    max_pause_months: int = Field(default=2, ge=1, le=2)
    scope_down_ratio: Decimal = Field(default=Decimal("0.60"), gt=0, lt=1)
    large_obligation_months: Decimal = Field(default=Decimal("2"), ge=0)

    @field_validator("approval_threshold", "early_termination_fee")
    @classmethod
    def _cents(cls, value: Decimal) -> Decimal:
        return _money(value)

    @model_validator(mode="after")
    def _fee_needs_amount(self) -> RefundPolicy:
        if self.early_termination != "fee" and self.early_termination_fee != 0:
            raise ValueError('early_termination_fee is only used with early_termination="fee"')
        return self


# --------------------------------------------------------------------------- outputs


class SaveLever(BaseModel):
    """One save offer the account manager can make; `amount` is its money value, if any."""

    model_config = ConfigDict(frozen=True)

    code: LeverCode
    title: str
    detail: str
    amount: Decimal | None = None


class ContractReview(BaseModel):
    """The result of `review_contract`; `model_dump(mode="json")` is the step's output.

    `current_term_month` is the month of the minimum term the cancel date falls in
    (1-based; None outside the term or before the start). `months_remaining_in_term` counts
    the whole months of the minimum term that have not begun on the cancel date; the month
    in progress is not counted (cancel in month 5 of 6 -> 1; before the start -> the full
    term; outside the term -> 0). `amount_prepaid` is the value of prepaid time from the
    start (or the cancel date, with no contract on file) through `prepaid_through`; a refund
    never exceeds it. `obligation_through` is the last day the client pays for (None when a
    full-refund window applies and nothing is owed).
    """

    model_config = ConfigDict(frozen=True)

    has_contract_on_file: bool
    currency: str
    inside_minimum_term: bool
    commitment_end: date | None
    current_term_month: int | None
    months_remaining_in_term: int
    notice_end: date
    effective_end_date: date
    obligation_through: date | None
    remaining_obligation: Decimal
    early_termination_fee_charged: Decimal
    amount_prepaid: Decimal
    refund_basis: RefundBasis
    refund_eligible: bool
    refund_amount: Decimal
    refund_needs_approval: bool
    refund_reason: str
    save_levers: list[SaveLever]
    summary: str


# --------------------------------------------------------------------------- the engine


def commitment_end(contract: Contract) -> date | None:
    """The last day the minimum term covers, or None (no contract on file / month-to-month)."""
    if contract.start_date is None or not contract.minimum_term_months:
        return None
    return add_months(contract.start_date, contract.minimum_term_months) - _ONE_DAY


def _round_to_period_end(day: date, contract: Contract) -> date:
    anchor = contract.anchor_day()
    if anchor is None or (contract.start_date is not None and day < contract.start_date):
        return day
    return billing_period(day, anchor)[1]


def _value(contract: Contract, first: date, last: date) -> Decimal:
    """Prorated fees for `first`..`last`; calendar months when the billing day is unknown."""
    anchor = contract.anchor_day() or 1
    return prorated_value(first, last, contract.monthly_fee, anchor, contract.start_date)


def _term_position(contract: Contract, cancel_on: date, end: date | None) -> tuple[int | None, int]:
    """(current_term_month, months_remaining_in_term) as documented on ContractReview."""
    start = contract.start_date
    months = contract.minimum_term_months or 0
    if start is None or end is None or cancel_on > end:
        return None, 0
    begun = sum(1 for k in range(months) if add_months(start, k) <= cancel_on)
    return (begun or None), months - begun


def review_contract(contract: Contract, cancel_requested_on: date, policy: RefundPolicy) -> ContractReview:
    """Review the contract terms for a cancel request made on `cancel_requested_on`.

    See the module docstring for the calendar, term and money rules and `RefundPolicy` for
    the refund order; `_choose_levers` documents which save offers are suggested.
    """
    cancel_on = cancel_requested_on
    start = contract.start_date
    currency = contract.currency
    has_contract = start is not None

    c_end = commitment_end(contract)
    inside_term = c_end is not None and cancel_on <= c_end
    term_month, months_left = _term_position(contract, cancel_on, c_end)

    notice_end = cancel_on + timedelta(days=contract.notice_days)
    contractual_end = max(notice_end, c_end) if c_end is not None else notice_end
    effective_end = _round_to_period_end(contractual_end, contract)
    notice_period_end = _round_to_period_end(notice_end, contract)

    # What has been paid for: from the start (or the cancel date, no contract) to prepaid_through.
    paid_from = start if start is not None else cancel_on
    prepaid = contract.prepaid_through
    amount_prepaid = _value(contract, paid_from, prepaid) if prepaid is not None else Decimal("0.00")
    unpaid_from = max(cancel_on, prepaid + _ONE_DAY) if prepaid is not None else cancel_on

    window_applies = (
        start is not None
        and policy.full_refund_window_days > 0
        and cancel_on < start + timedelta(days=policy.full_refund_window_days)
    )

    fee_charged = Decimal("0.00")
    obligation_through: date | None
    if window_applies:
        obligation_through = None
        obligation = Decimal("0.00")
    else:
        waived = inside_term and policy.early_termination != "remaining"
        obligation_through = notice_period_end if waived else effective_end
        obligation = _value(contract, unpaid_from, obligation_through)
        if waived and policy.early_termination == "fee" and effective_end > notice_period_end:
            fee_charged = policy.early_termination_fee
        obligation += fee_charged

    refund_basis: RefundBasis
    refund = Decimal("0.00")
    money = lambda amount: format_money(amount, currency)  # noqa: E731
    if window_applies:
        assert start is not None
        refund_basis = "full_refund_window"
        refund = amount_prepaid
        reason = (
            f"Cancelled within the {policy.full_refund_window_days}-day full-refund window that began "
            f"on {format_date(start)}, so everything paid ({money(amount_prepaid)}) is refunded "
            "and nothing more is owed."
        )
    elif inside_term and not policy.refund_inside_minimum_term:
        refund_basis = "none"
        reason = "No refund: the client is still inside the minimum term, and the policy gives no refunds inside it."
    elif not policy.refund_unused_prepaid:
        refund_basis = "none"
        reason = "No refund: the policy does not refund unused prepaid time."
    else:
        assert obligation_through is not None
        if prepaid is not None and prepaid > obligation_through:
            refund = _value(contract, obligation_through + _ONE_DAY, prepaid)
        if refund > 0:
            assert prepaid is not None
            refund_basis = "unused_prepaid"
            reason = (
                f"Refund of {money(refund)} for the prepaid time from "
                f"{format_date(obligation_through + _ONE_DAY)} to {format_date(prepaid)}, after billing ends."
            )
        else:
            refund_basis = "none"
            reason = f"No refund: nothing is prepaid beyond {format_date(obligation_through)}, when billing ends."
    needs_approval = refund > policy.approval_threshold
    if needs_approval:
        reason += f" It needs approval because it is over {money(policy.approval_threshold)}."

    levers = _choose_levers(contract, policy, inside_term, obligation, window_applies)

    review = ContractReview(
        has_contract_on_file=has_contract,
        currency=currency,
        inside_minimum_term=inside_term,
        commitment_end=c_end,
        current_term_month=term_month,
        months_remaining_in_term=months_left,
        notice_end=notice_end,
        effective_end_date=effective_end,
        obligation_through=obligation_through,
        remaining_obligation=_money(obligation),
        early_termination_fee_charged=fee_charged,
        amount_prepaid=amount_prepaid,
        refund_basis=refund_basis,
        refund_eligible=refund > 0,
        refund_amount=_money(refund),
        refund_needs_approval=needs_approval,
        refund_reason=reason,
        save_levers=levers,
        summary="",
    )
    return review.model_copy(update={"summary": _summary(contract, cancel_on, policy, review)})


# --------------------------------------------------------------------------- save levers


def _choose_levers(
    contract: Contract,
    policy: RefundPolicy,
    inside_term: bool,
    obligation: Decimal,
    window_applies: bool,
) -> list[SaveLever]:
    """Pick the save offers, most persuasive first. The rules, checked in this order:

    1. No contract on file, or a zero fee: `strategy_review` only (nothing to discount or pause).
    2. Inside the full-refund window (a brand-new client): `strategy_review`, `discount`.
    3. Inside the minimum term: `term_credit` first when the remaining obligation is large
       (>= `large_obligation_months` x fee, and above zero: they pay anyway, so redirect the
       money), then `pause` for `max_pause_months` when the policy allows pauses (the term is
       extended by the pause), then `discount`, then `strategy_review`.
    4. Otherwise (month-to-month, or the term is over): `discount`, `scope_down`,
       `strategy_review`.
    """
    fee = contract.monthly_fee
    currency = contract.currency

    def money(amount: Decimal) -> str:
        return format_money(amount, currency)

    review = SaveLever(
        code="strategy_review",
        title="Free strategy session",
        detail="Offer a free strategy session with a senior strategist to reset goals and fix what is not working.",
    )
    if contract.start_date is None or fee == 0:
        return [review]

    off = _money(fee * policy.discount_percent / 100)
    pct = f"{policy.discount_percent.normalize():f}%"
    months = policy.discount_months
    discount = SaveLever(
        code="discount",
        title=f"{pct} off for {months} month{'s' if months != 1 else ''}",
        detail=(
            f"{money(off)} off each month ({money(fee - off)} instead of {money(fee)}), {money(off * months)} in total."
        ),
        amount=_money(off * months),
    )
    if window_applies:
        return [review, discount]

    if inside_term:
        levers: list[SaveLever] = []
        if obligation >= fee * policy.large_obligation_months and obligation > 0:
            levers.append(
                SaveLever(
                    code="term_credit",
                    title="Turn the rest of the term into credit",
                    detail=(
                        f"Leaving still costs them {money(obligation)}; offer to turn that into credit for "
                        "different work (a new channel, a content sprint) instead of paying for services "
                        "they do not want."
                    ),
                    amount=_money(obligation),
                )
            )
        if policy.allow_pause:
            pause_months = policy.max_pause_months
            levers.append(
                SaveLever(
                    code="pause",
                    title=f"Pause for up to {pause_months} month{'s' if pause_months != 1 else ''}",
                    detail=(
                        f"Pause the retainer for up to {pause_months} month{'s' if pause_months != 1 else ''} "
                        f"({money(fee * pause_months)} not billed); the minimum term is extended by the pause."
                    ),
                    amount=_money(fee * pause_months),
                )
            )
        return [*levers, discount, review]

    smaller = _money(fee * policy.scope_down_ratio)
    scope_down = SaveLever(
        code="scope_down",
        title="Smaller package",
        detail=f"Move to a smaller package at about {money(smaller)} a month, keeping the channels that work best.",
        amount=smaller,
    )
    return [discount, scope_down, review]


# --------------------------------------------------------------------------- summary


def _summary(contract: Contract, cancel_on: date, policy: RefundPolicy, review: ContractReview) -> str:
    """Two or three plain sentences: term status, what leaving costs, the refund."""
    name = contract.client_name or "The client"
    currency = contract.currency

    def money(amount: Decimal) -> str:
        return format_money(amount, currency)

    start = contract.start_date
    months = contract.minimum_term_months or 0
    end = format_date(review.effective_end_date)
    owed = money(review.remaining_obligation)
    owes = f"still owes {owed}" if review.remaining_obligation > 0 else "owes nothing more (it is prepaid)"

    if start is None:
        first = f"{name} has no contract on file, so there is no minimum term to hold them to."
        second = f"With {contract.notice_days} days' notice billing ends on {end}; leaving now {owes}."
    elif review.refund_basis == "full_refund_window":
        first = (
            f"{name} cancelled within the {policy.full_refund_window_days}-day full-refund window "
            f"that began on {format_date(start)}."
        )
        second = "Nothing more is owed."
    else:
        c_end = review.commitment_end
        if review.inside_minimum_term and c_end is not None:
            if cancel_on < start:
                first = (
                    f"{name}'s {months}-month minimum term has not started yet; it begins on {format_date(start)} "
                    f"and runs to {format_date(c_end)}."
                )
            else:
                first = (
                    f"{name} is in month {review.current_term_month} of a {months}-month minimum term "
                    f"that runs to {format_date(c_end)}."
                )
            if review.early_termination_fee_charged > 0:
                second = (
                    f"Leaving now owes {owed}, including the {money(review.early_termination_fee_charged)} "
                    "early-termination fee."
                )
            elif policy.early_termination == "remaining":
                second = f"Leaving now {owes}, with billing running to {end}."
            else:
                second = f"Leaving now owes {owed} for the notice period; the rest of the term is waived."
        else:
            if c_end is not None:
                first = f"{name} is past their {months}-month minimum term, which ended on {format_date(c_end)}."
            else:
                first = f"{name} is month-to-month, with no minimum term."
            second = f"With {contract.notice_days} days' notice billing ends on {end}; leaving now {owes}."

    if review.refund_eligible:
        third = f"They are due a refund of {money(review.refund_amount)}"
        third += " (needs approval)." if review.refund_needs_approval else "."
    else:
        third = "No refund is due."
    return f"{first} {second} {third}"

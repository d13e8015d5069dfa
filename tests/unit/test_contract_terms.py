"""The contract-terms engine (checklist item 3): calendar edges, money, policy, save levers."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from savedesk.contract_terms import (
    Contract,
    ContractReview,
    RefundPolicy,
    add_months,
    billing_period,
    commitment_end,
    format_date,
    format_money,
    prorated_value,
    review_contract,
)

D = Decimal
DEFAULT = RefundPolicy()


def contract(**kw: object) -> Contract:
    """A 6-month, $1,000/month contract starting 1 Jul 2026 for Acme, unless overridden."""
    fields: dict[str, object] = {
        "start_date": date(2026, 7, 1),
        "minimum_term_months": 6,
        "monthly_fee": D("1000.00"),
        "client_name": "Acme",
    }
    fields.update(kw)
    return Contract.model_validate(fields)


def codes(review: ContractReview) -> list[str]:
    return [lever.code for lever in review.save_levers]


# --------------------------------------------------------------------------- add_months


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),  # month end clamps in a common year
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # ... and in a leap year
        (date(2024, 2, 29), 12, date(2025, 2, 28)),  # leap day to a common year
        (date(2024, 2, 29), 48, date(2028, 2, 29)),  # leap day to the next leap day
        (date(2026, 3, 31), -1, date(2026, 2, 28)),  # backwards clamps too
        (date(2026, 8, 31), 1, date(2026, 9, 30)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),  # across a year end
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 5, 31), 0, date(2026, 5, 31)),
        (date(2026, 1, 1), 24, date(2028, 1, 1)),
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_add_months_out_of_range_raises() -> None:
    with pytest.raises(ValueError, match="out of range"):
        add_months(date(9999, 12, 1), 1)


# --------------------------------------------------------------------------- commitment_end


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 7, 1), 6, date(2026, 12, 31)),  # the brief's example
        (date(2026, 1, 31), 1, date(2026, 2, 27)),  # next period starts 28 Feb
        (date(2024, 1, 31), 1, date(2024, 2, 28)),  # next period starts 29 Feb
        (date(2024, 2, 29), 12, date(2025, 2, 27)),  # renews on 28 Feb 2025
        (date(2026, 8, 31), 6, date(2027, 2, 27)),
        (date(2026, 7, 15), 12, date(2027, 7, 14)),
        (date(2026, 7, 1), 0, None),  # month-to-month
        (date(2026, 7, 1), None, None),  # month-to-month
        (None, 6, None),  # no contract on file
    ],
)
def test_commitment_end(start: date | None, months: int | None, expected: date | None) -> None:
    assert commitment_end(contract(start_date=start, minimum_term_months=months)) == expected


# --------------------------------------------------------------------------- billing periods


@pytest.mark.parametrize(
    ("day", "billing_day", "expected"),
    [
        (date(2026, 2, 15), 31, (date(2026, 1, 31), date(2026, 2, 27))),
        (date(2026, 2, 28), 31, (date(2026, 2, 28), date(2026, 3, 30))),
        (date(2024, 2, 28), 31, (date(2024, 1, 31), date(2024, 2, 28))),  # leap: next starts 29 Feb
        (date(2026, 7, 1), 1, (date(2026, 7, 1), date(2026, 7, 31))),
        (date(2026, 7, 31), 1, (date(2026, 7, 1), date(2026, 7, 31))),
        (date(2026, 1, 10), 15, (date(2025, 12, 15), date(2026, 1, 14))),
        (date(2026, 12, 20), 15, (date(2026, 12, 15), date(2027, 1, 14))),
    ],
)
def test_billing_period(day: date, billing_day: int, expected: tuple[date, date]) -> None:
    assert billing_period(day, billing_day) == expected


@pytest.mark.parametrize(
    ("first", "last", "fee", "billing_day", "not_before", "expected"),
    [
        (date(2026, 7, 1), date(2026, 7, 31), "1000", 1, None, "1000.00"),  # a whole period is the fee
        (date(2026, 2, 1), date(2026, 2, 14), "2800", 1, None, "1400.00"),  # half of February
        (date(2026, 7, 16), date(2026, 8, 15), "3100", 1, None, "3100.00"),  # 16/31 + 15/31
        (date(2026, 7, 31), date(2026, 7, 31), "1000", 1, None, "32.26"),  # rounded half-up
        (date(2026, 6, 1), date(2026, 7, 31), "1000", 1, date(2026, 7, 1), "1000.00"),  # nothing before start
        (date(2026, 7, 2), date(2026, 7, 1), "1000", 1, None, "0.00"),  # empty range
        (date(2026, 1, 31), date(2026, 3, 30), "900", 31, None, "1800.00"),  # two clamped periods
    ],
)
def test_prorated_value(
    first: date, last: date, fee: str, billing_day: int, not_before: date | None, expected: str
) -> None:
    assert prorated_value(first, last, D(fee), billing_day, not_before) == D(expected)


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (D("4000"), "USD", "$4,000.00"),
        (D("1234"), "EUR", "1,234.00 EUR"),
        (D("1234567.891"), "usd", "$1,234,567.89"),
        (D("0.005"), "USD", "$0.01"),  # half-up, not banker's rounding
        (D("-12.5"), "USD", "-$12.50"),
        (D("0"), "GBP", "0.00 GBP"),
    ],
)
def test_format_money(amount: Decimal, currency: str, expected: str) -> None:
    assert format_money(amount, currency) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [(date(2026, 12, 31), "31 Dec 2026"), (date(2024, 2, 29), "29 Feb 2024"), (date(2026, 1, 5), "5 Jan 2026")],
)
def test_format_date(day: date, expected: str) -> None:
    assert format_date(day) == expected


# --------------------------------------------------------------------------- review_contract: terms and dates

# Each row: contract overrides, cancel date, then the expected
# (inside term, commitment end, term month, months remaining, notice end, effective end, obligation).
TERM_CASES = [
    pytest.param(
        {"prepaid_through": date(2026, 11, 30)},
        date(2026, 11, 10),
        (True, date(2026, 12, 31), 5, 1, date(2026, 12, 10), date(2026, 12, 31), "1000.00"),
        id="month-5-of-6-owes-december",
    ),
    pytest.param(
        {"prepaid_through": date(2026, 8, 31)},
        date(2026, 8, 10),
        (True, date(2026, 12, 31), 2, 4, date(2026, 9, 9), date(2026, 12, 31), "4000.00"),
        id="month-2-owes-four-months",
    ),
    pytest.param(
        {"prepaid_through": date(2026, 12, 31)},
        date(2026, 12, 31),
        (True, date(2026, 12, 31), 6, 0, date(2027, 1, 30), date(2027, 1, 31), "1000.00"),
        id="cancel-on-last-day-of-term-notice-runs-into-january",
    ),
    pytest.param(
        {"prepaid_through": date(2027, 1, 31)},
        date(2027, 1, 1),
        (False, date(2026, 12, 31), None, 0, date(2027, 1, 31), date(2027, 1, 31), "0.00"),
        id="day-after-term-ends",
    ),
    pytest.param(
        {},
        date(2026, 6, 15),
        (True, date(2026, 12, 31), None, 6, date(2026, 7, 15), date(2026, 12, 31), "6000.00"),
        id="cancel-before-start-term-still-binds",
    ),
    pytest.param(
        {"minimum_term_months": None, "prepaid_through": date(2026, 7, 31)},
        date(2026, 5, 1),
        (False, None, None, 0, date(2026, 5, 31), date(2026, 5, 31), "0.00"),
        id="month-to-month-notice-ends-before-start",
    ),
    pytest.param(
        {"start_date": date(2026, 1, 31), "minimum_term_months": 1, "prepaid_through": date(2026, 2, 27)},
        date(2026, 2, 10),
        (True, date(2026, 2, 27), 1, 0, date(2026, 3, 12), date(2026, 3, 30), "1000.00"),
        id="start-jan-31-periods-clamp",
    ),
    pytest.param(
        {
            "start_date": date(2024, 2, 29),
            "minimum_term_months": 12,
            "notice_days": 5,
            "prepaid_through": date(2025, 2, 27),
        },
        date(2025, 2, 20),
        (True, date(2025, 2, 27), 12, 0, date(2025, 2, 25), date(2025, 2, 27), "0.00"),
        id="leap-day-start-fully-prepaid",
    ),
    pytest.param(
        {"notice_days": 60, "prepaid_through": date(2026, 12, 31)},
        date(2026, 12, 15),
        (True, date(2026, 12, 31), 6, 0, date(2027, 2, 13), date(2027, 2, 28), "2000.00"),
        id="notice-spans-past-commitment-end",
    ),
    pytest.param(
        {"billing_day": 15, "prepaid_through": date(2026, 11, 14)},
        date(2026, 11, 10),
        (True, date(2026, 12, 31), 5, 1, date(2026, 12, 10), date(2027, 1, 14), "2000.00"),
        id="billing-day-differs-from-start-rounds-to-period-end",
    ),
    pytest.param(
        {"minimum_term_months": 0, "notice_days": 0, "prepaid_through": date(2026, 9, 30)},
        date(2026, 9, 30),
        (False, None, None, 0, date(2026, 9, 30), date(2026, 9, 30), "0.00"),
        id="zero-term-zero-notice-on-period-end",
    ),
    pytest.param(
        {"start_date": None, "monthly_fee": D("1500")},
        date(2026, 3, 10),
        (False, None, None, 0, date(2026, 4, 9), date(2026, 4, 9), "1514.52"),
        id="no-contract-no-billing-day-not-rounded",
    ),
    pytest.param(
        {"start_date": None, "monthly_fee": D("1500"), "billing_day": 1},
        date(2026, 3, 10),
        (False, None, None, 0, date(2026, 4, 9), date(2026, 4, 30), "2564.52"),
        id="no-contract-with-billing-day",
    ),
    pytest.param(
        {"start_date": None, "monthly_fee": D("1500"), "prepaid_through": date(2026, 3, 31)},
        date(2026, 3, 10),
        (False, None, None, 0, date(2026, 4, 9), date(2026, 4, 30), "1500.00"),
        id="no-contract-billing-day-from-prepaid",
    ),
]


@pytest.mark.parametrize(("overrides", "cancel_on", "expected"), TERM_CASES)
def test_review_terms(overrides: dict[str, object], cancel_on: date, expected: tuple[object, ...]) -> None:
    # Given a contract, When the client asks to cancel on `cancel_on` under the default policy,
    review = review_contract(contract(**overrides), cancel_on, DEFAULT)
    # Then the term position, dates and remaining obligation are as worked out by hand.
    inside, c_end, month, remaining, notice_end, effective_end, owed = expected
    assert review.inside_minimum_term is inside
    assert review.commitment_end == c_end
    assert review.current_term_month == month
    assert review.months_remaining_in_term == remaining
    assert review.notice_end == notice_end
    assert review.effective_end_date == effective_end
    assert review.remaining_obligation == D(str(owed))
    assert review.early_termination_fee_charged == D("0.00")


def test_no_contract_on_file() -> None:
    review = review_contract(contract(start_date=None), date(2026, 3, 10), DEFAULT)
    assert review.has_contract_on_file is False
    assert codes(review) == ["strategy_review"]
    assert review.summary.startswith("Acme has no contract on file")


# --------------------------------------------------------------------------- review_contract: refunds and policy

# Each row: contract overrides, cancel date, policy overrides, then the expected
# (obligation, fee charged, refund basis, refund, needs approval, obligation through).
REFUND_CASES = [
    pytest.param(
        {"minimum_term_months": None, "monthly_fee": D("2000"), "start_date": date(2026, 1, 1)},
        date(2026, 3, 10),
        {},
        # 22/31 of March (1,419.35) + April (2,000.00): nothing is recorded as paid from the cancel date on.
        ("3419.35", "0.00", "none", "0.00", False, date(2026, 4, 30)),
        id="month-to-month-nothing-prepaid-owes-rest-of-notice",
    ),
    pytest.param(
        {
            "minimum_term_months": None,
            "monthly_fee": D("2000"),
            "start_date": date(2026, 1, 1),
            "prepaid_through": date(2026, 12, 31),
        },
        date(2026, 3, 10),
        {},
        ("0.00", "0.00", "unused_prepaid", "16000.00", True, date(2026, 4, 30)),
        id="prepaid-year-refunds-may-to-december",
    ),
    pytest.param(
        {"minimum_term_months": None, "start_date": date(2026, 1, 1), "prepaid_through": date(2026, 5, 31)},
        date(2026, 3, 10),
        {},
        ("0.00", "0.00", "unused_prepaid", "1000.00", False, date(2026, 4, 30)),
        id="refund-equal-to-threshold-needs-no-approval",
    ),
    pytest.param(
        {
            "minimum_term_months": None,
            "start_date": date(2026, 1, 1),
            "prepaid_through": date(2026, 5, 31),
            "monthly_fee": D("1000.01"),
        },
        date(2026, 3, 10),
        {},
        ("0.00", "0.00", "unused_prepaid", "1000.01", True, date(2026, 4, 30)),
        id="refund-a-cent-over-threshold-needs-approval",
    ),
    pytest.param(
        {"minimum_term_months": None, "start_date": date(2026, 1, 1), "prepaid_through": date(2026, 12, 31)},
        date(2026, 3, 10),
        {"refund_unused_prepaid": False},
        ("0.00", "0.00", "none", "0.00", False, date(2026, 4, 30)),
        id="policy-refunds-no-prepaid-time",
    ),
    pytest.param(
        {"prepaid_through": date(2027, 3, 31)},
        date(2026, 8, 10),
        {},
        ("0.00", "0.00", "none", "0.00", False, date(2026, 12, 31)),
        id="inside-term-no-refund-by-default",
    ),
    pytest.param(
        {"prepaid_through": date(2027, 3, 31)},
        date(2026, 8, 10),
        {"refund_inside_minimum_term": True},
        ("0.00", "0.00", "unused_prepaid", "3000.00", True, date(2026, 12, 31)),
        id="inside-term-refund-allowed-refunds-after-term",
    ),
    pytest.param(
        {"prepaid_through": date(2026, 8, 31)},
        date(2026, 8, 10),
        {"early_termination": "none"},
        ("1000.00", "0.00", "none", "0.00", False, date(2026, 9, 30)),
        id="early-termination-none-owes-notice-period-only",
    ),
    pytest.param(
        {"prepaid_through": date(2026, 8, 31)},
        date(2026, 8, 10),
        {"early_termination": "fee", "early_termination_fee": D("500")},
        ("1500.00", "500.00", "none", "0.00", False, date(2026, 9, 30)),
        id="early-termination-fee-added-to-notice-period",
    ),
    pytest.param(
        {"prepaid_through": date(2026, 12, 31)},
        date(2026, 12, 31),
        {"early_termination": "fee", "early_termination_fee": D("500")},
        ("1000.00", "0.00", "none", "0.00", False, date(2027, 1, 31)),
        id="no-fee-when-notice-outlasts-term",
    ),
    pytest.param(
        {"prepaid_through": date(2026, 12, 31)},
        date(2026, 8, 10),
        {"early_termination": "none", "refund_inside_minimum_term": True},
        ("0.00", "0.00", "unused_prepaid", "3000.00", True, date(2026, 9, 30)),
        id="waived-term-refunds-prepaid-after-notice",
    ),
    pytest.param(
        {"minimum_term_months": None, "prepaid_through": date(2026, 7, 31)},
        date(2026, 5, 1),
        {},
        ("0.00", "0.00", "unused_prepaid", "1000.00", False, date(2026, 5, 31)),
        id="month-to-month-cancelled-before-start-refunds-first-month",
    ),
    pytest.param(
        {"prepaid_through": date(2026, 7, 31)},
        date(2026, 7, 10),
        {"full_refund_window_days": 14},
        ("0.00", "0.00", "full_refund_window", "1000.00", False, None),
        id="inside-full-refund-window",
    ),
    pytest.param(
        {"prepaid_through": date(2026, 7, 31)},
        date(2026, 6, 20),
        {"full_refund_window_days": 14},
        ("0.00", "0.00", "full_refund_window", "1000.00", False, None),
        id="full-refund-window-covers-cancel-before-start",
    ),
    pytest.param(
        {"prepaid_through": date(2026, 7, 31)},
        date(2026, 7, 15),
        {"full_refund_window_days": 14},
        ("5000.00", "0.00", "none", "0.00", False, date(2026, 12, 31)),
        id="day-after-full-refund-window-closes",
    ),
]


@pytest.mark.parametrize(("overrides", "cancel_on", "policy_overrides", "expected"), REFUND_CASES)
def test_review_refunds(
    overrides: dict[str, object], cancel_on: date, policy_overrides: dict[str, object], expected: tuple[object, ...]
) -> None:
    # Given a contract and a refund policy, When the client cancels,
    policy = RefundPolicy.model_validate(policy_overrides)
    review = review_contract(contract(**overrides), cancel_on, policy)
    # Then the obligation, refund and approval follow the policy's rules.
    owed, fee, basis, refund, approval, through = expected
    assert review.remaining_obligation == D(str(owed))
    assert review.early_termination_fee_charged == D(str(fee))
    assert review.refund_basis == basis
    assert review.refund_amount == D(str(refund))
    assert review.refund_eligible is (D(str(refund)) > 0)
    assert review.refund_needs_approval is approval
    assert review.obligation_through == through
    assert review.refund_reason
    if approval:
        assert "needs approval" in review.refund_reason


def test_refund_reasons_name_the_rule() -> None:
    inside = review_contract(contract(prepaid_through=date(2027, 3, 31)), date(2026, 8, 10), DEFAULT)
    assert "inside the minimum term" in inside.refund_reason
    m2m = contract(minimum_term_months=None, start_date=date(2026, 1, 1), prepaid_through=date(2026, 5, 31))
    prorated = review_contract(m2m, date(2026, 3, 10), DEFAULT)
    assert (
        prorated.refund_reason
        == "Refund of $1,000.00 for the prepaid time from 1 May 2026 to 31 May 2026, after billing ends."
    )


# --------------------------------------------------------------------------- save levers

LEVER_CASES = [
    pytest.param({"start_date": None}, date(2026, 3, 10), {}, ["strategy_review"], id="no-contract"),
    pytest.param({"monthly_fee": D("0")}, date(2026, 8, 10), {}, ["strategy_review"], id="zero-fee"),
    pytest.param(
        {"prepaid_through": date(2026, 8, 31)},
        date(2026, 8, 10),
        {},
        ["term_credit", "pause", "discount", "strategy_review"],
        id="inside-term-large-obligation",
    ),
    pytest.param(
        {"prepaid_through": date(2026, 11, 30)},
        date(2026, 11, 10),
        {},
        ["pause", "discount", "strategy_review"],
        id="inside-term-small-obligation",
    ),
    pytest.param(
        {"prepaid_through": date(2026, 8, 31)},
        date(2026, 8, 10),
        {"allow_pause": False},
        ["term_credit", "discount", "strategy_review"],
        id="inside-term-pause-not-allowed",
    ),
    pytest.param(
        {"prepaid_through": date(2026, 12, 31)},
        date(2026, 8, 10),
        {},
        ["pause", "discount", "strategy_review"],
        id="inside-term-fully-prepaid-no-term-credit",
    ),
    pytest.param(
        {"minimum_term_months": None},
        date(2026, 9, 10),
        {},
        ["discount", "scope_down", "strategy_review"],
        id="month-to-month",
    ),
    pytest.param(
        {"prepaid_through": date(2027, 1, 31)},
        date(2027, 1, 1),
        {},
        ["discount", "scope_down", "strategy_review"],
        id="term-over",
    ),
    pytest.param(
        {"prepaid_through": date(2026, 7, 31)},
        date(2026, 7, 10),
        {"full_refund_window_days": 14},
        ["strategy_review", "discount"],
        id="full-refund-window",
    ),
]


@pytest.mark.parametrize(("overrides", "cancel_on", "policy_overrides", "expected"), LEVER_CASES)
def test_save_lever_selection(
    overrides: dict[str, object], cancel_on: date, policy_overrides: dict[str, object], expected: list[str]
) -> None:
    review = review_contract(contract(**overrides), cancel_on, RefundPolicy.model_validate(policy_overrides))
    assert codes(review) == expected


def test_lever_amounts_are_computed() -> None:
    # Given month 2 of a $1,000 term with four months left and a 20%-for-2-months discount,
    policy = RefundPolicy(discount_percent=D("20"), discount_months=2, max_pause_months=1)
    review = review_contract(contract(prepaid_through=date(2026, 8, 31)), date(2026, 8, 10), policy)
    levers = {lever.code: lever for lever in review.save_levers}
    # Then each lever carries its money value and says it in words.
    assert levers["discount"].title == "20% off for 2 months"
    assert levers["discount"].amount == D("400.00")
    assert "$200.00 off each month ($800.00 instead of $1,000.00)" in levers["discount"].detail
    assert levers["pause"].title == "Pause for up to 1 month"
    assert levers["pause"].amount == D("1000.00")
    assert levers["term_credit"].amount == D("4000.00")
    assert "$4,000.00" in levers["term_credit"].detail


def test_scope_down_amount() -> None:
    review = review_contract(contract(minimum_term_months=None), date(2026, 9, 10), DEFAULT)
    scope_down = next(lever for lever in review.save_levers if lever.code == "scope_down")
    assert scope_down.amount == D("600.00")


# --------------------------------------------------------------------------- summary


@pytest.mark.parametrize(
    ("overrides", "cancel_on", "policy_overrides", "expected"),
    [
        pytest.param(
            {"prepaid_through": date(2026, 8, 31)},
            date(2026, 8, 10),
            {},
            "Acme is in month 2 of a 6-month minimum term that runs to 31 Dec 2026. "
            "Leaving now still owes $4,000.00, with billing running to 31 Dec 2026. No refund is due.",
            id="inside-term",
        ),
        pytest.param(
            {},
            date(2026, 6, 15),
            {},
            "Acme's 6-month minimum term has not started yet; it begins on 1 Jul 2026 and runs to 31 Dec 2026. "
            "Leaving now still owes $6,000.00, with billing running to 31 Dec 2026. No refund is due.",
            id="before-start",
        ),
        pytest.param(
            {"prepaid_through": date(2026, 8, 31)},
            date(2026, 8, 10),
            {"early_termination": "fee", "early_termination_fee": D("500")},
            "Acme is in month 2 of a 6-month minimum term that runs to 31 Dec 2026. "
            "Leaving now owes $1,500.00, including the $500.00 early-termination fee. No refund is due.",
            id="fee",
        ),
        pytest.param(
            {"prepaid_through": date(2026, 8, 31)},
            date(2026, 8, 10),
            {"early_termination": "none"},
            "Acme is in month 2 of a 6-month minimum term that runs to 31 Dec 2026. "
            "Leaving now owes $1,000.00 for the notice period; the rest of the term is waived. No refund is due.",
            id="waived",
        ),
        pytest.param(
            {"minimum_term_months": None, "currency": "eur", "prepaid_through": date(2026, 12, 31)},
            date(2026, 9, 10),
            {},
            "Acme is month-to-month, with no minimum term. With 30 days' notice billing ends on 31 Oct 2026; "
            "leaving now owes nothing more (it is prepaid). They are due a refund of 2,000.00 EUR (needs approval).",
            id="month-to-month-eur-refund",
        ),
        pytest.param(
            {"prepaid_through": date(2027, 1, 31)},
            date(2027, 1, 1),
            {},
            "Acme is past their 6-month minimum term, which ended on 31 Dec 2026. With 30 days' notice billing "
            "ends on 31 Jan 2027; leaving now owes nothing more (it is prepaid). No refund is due.",
            id="term-over",
        ),
        pytest.param(
            {"prepaid_through": date(2026, 7, 31), "client_name": None},
            date(2026, 7, 10),
            {"full_refund_window_days": 14},
            "The client cancelled within the 14-day full-refund window that began on 1 Jul 2026. "
            "Nothing more is owed. They are due a refund of $1,000.00.",
            id="full-refund-window-no-name",
        ),
    ],
)
def test_summary(
    overrides: dict[str, object], cancel_on: date, policy_overrides: dict[str, object], expected: str
) -> None:
    review = review_contract(contract(**overrides), cancel_on, RefundPolicy.model_validate(policy_overrides))
    assert review.summary == expected


# --------------------------------------------------------------------------- models


def test_review_serialises_to_json_and_back() -> None:
    review = review_contract(contract(prepaid_through=date(2026, 8, 31)), date(2026, 8, 10), DEFAULT)
    dumped = review.model_dump(mode="json")
    assert dumped["effective_end_date"] == "2026-12-31"
    assert dumped["remaining_obligation"] == "4000.00"
    assert dumped["save_levers"][0]["code"] == "term_credit"
    assert ContractReview.model_validate(dumped) == review


@pytest.mark.parametrize(
    "bad",
    [
        {"currency": "US"},
        {"currency": "12$"},
        {"billing_day": 0},
        {"billing_day": 32},
        {"monthly_fee": D("-1")},
        {"notice_days": -1},
        {"minimum_term_months": -6},
    ],
)
def test_contract_rejects_bad_input(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        contract(**bad)


@pytest.mark.parametrize(
    "bad",
    [
        {"early_termination": "remaining", "early_termination_fee": D("100")},  # a fee the policy never charges
        {"early_termination": "sometimes"},
        {"max_pause_months": 3},
        {"discount_percent": D("0")},
        {"full_refund_window_days": -1},
    ],
)
def test_policy_rejects_bad_input(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        RefundPolicy.model_validate(bad)


def test_models_are_frozen_and_money_is_in_cents() -> None:
    c = contract(monthly_fee=D("999.995"))
    assert c.monthly_fee == D("1000.00")
    with pytest.raises(ValidationError):
        c.monthly_fee = D("1")  # type: ignore[misc]


# --------------------------------------------------------------------------- properties

dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2032, 12, 31))
fees = st.decimals(min_value=0, max_value=20000, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Contract, date, RefundPolicy]:
    start = draw(st.none() | dates)
    anchor = start or draw(dates)
    cancel_on = anchor + timedelta(days=draw(st.integers(-120, 900)))
    prepaid_base = start or cancel_on
    prepaid = draw(st.none() | st.integers(-60, 900).map(lambda n: prepaid_base + timedelta(days=n)))
    c = Contract(
        start_date=start,
        minimum_term_months=draw(st.none() | st.integers(0, 24)),
        notice_days=draw(st.integers(0, 120)),
        monthly_fee=draw(fees),
        currency=draw(st.sampled_from(["USD", "EUR"])),
        prepaid_through=prepaid,
        billing_day=draw(st.none() | st.integers(1, 31)),
    )
    early = draw(st.sampled_from(["remaining", "none", "fee"]))
    policy = RefundPolicy(
        refund_unused_prepaid=draw(st.booleans()),
        full_refund_window_days=draw(st.integers(0, 60)),
        refund_inside_minimum_term=draw(st.booleans()),
        approval_threshold=draw(fees),
        early_termination=early,
        early_termination_fee=draw(fees) if early == "fee" else D("0"),
        allow_pause=draw(st.booleans()),
    )
    return c, cancel_on, policy


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_property_end_dates_never_come_early(scenario: tuple[Contract, date, RefundPolicy]) -> None:
    c, cancel_on, policy = scenario
    review = review_contract(c, cancel_on, policy)
    assert review.notice_end == cancel_on + timedelta(days=c.notice_days)
    assert review.effective_end_date >= review.notice_end
    if review.commitment_end is not None:
        assert review.effective_end_date >= review.commitment_end
    if review.obligation_through is not None:
        assert review.obligation_through <= review.effective_end_date
        assert review.obligation_through >= min(review.notice_end, review.effective_end_date)
    # The effective end is a billing-period end whenever billing has begun and the billing day is known.
    anchor = c.anchor_day()
    if anchor is not None and (c.start_date is None or review.effective_end_date >= c.start_date):
        assert billing_period(review.effective_end_date, anchor)[1] == review.effective_end_date


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_property_money_is_sane(scenario: tuple[Contract, date, RefundPolicy]) -> None:
    c, cancel_on, policy = scenario
    review = review_contract(c, cancel_on, policy)
    assert review.refund_amount >= 0
    assert review.refund_amount <= review.amount_prepaid
    assert review.remaining_obligation >= 0
    assert review.refund_eligible is (review.refund_amount > 0)
    assert review.refund_needs_approval is (review.refund_amount > policy.approval_threshold)
    assert review.refund_amount == review.refund_amount.quantize(D("0.01"))
    assert review.remaining_obligation == review.remaining_obligation.quantize(D("0.01"))
    if review.refund_basis == "full_refund_window":
        assert review.remaining_obligation == 0
        assert review.refund_amount == review.amount_prepaid
    if review.inside_minimum_term and not policy.refund_inside_minimum_term and review.refund_amount > 0:
        assert review.refund_basis == "full_refund_window"


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_property_levers_follow_the_rules(scenario: tuple[Contract, date, RefundPolicy]) -> None:
    c, cancel_on, policy = scenario
    review = review_contract(c, cancel_on, policy)
    found = codes(review)
    assert len(found) == len(set(found))
    assert "strategy_review" in found
    if not review.has_contract_on_file:
        assert found == ["strategy_review"]
    if "pause" in found:
        assert review.inside_minimum_term and policy.allow_pause
    if "term_credit" in found:
        assert review.inside_minimum_term and review.remaining_obligation > 0
    if "scope_down" in found:
        assert not review.inside_minimum_term
    assert review.summary.count(". ") in (1, 2)  # two or three sentences
    assert ContractReview.model_validate(review.model_dump(mode="json")) == review


@given(dates, st.integers(-120, 120))
def test_property_add_months_round_trips(d: date, n: int) -> None:
    moved = add_months(d, n)
    assert (moved.year * 12 + moved.month) - (d.year * 12 + d.month) == n
    assert moved.day == d.day or (moved.day < d.day and (moved + timedelta(days=1)).day == 1)
    back = add_months(moved, -n)
    assert back <= d and (back.year, back.month) == (d.year, d.month)
    if d.day <= 28:
        assert back == d


@given(dates, st.integers(1, 31), fees, st.integers(0, 100), st.integers(0, 100))
def test_property_prorating_adds_up(start: date, billing_day: int, fee: Decimal, a: int, b: int) -> None:
    # Whole periods cost exactly the fee; splitting a range costs at most a cent of rounding.
    p_start, p_end = billing_period(start, billing_day)
    assert prorated_value(p_start, p_end, fee, billing_day) == fee
    first, middle, last = start, start + timedelta(days=a), start + timedelta(days=a + b)
    whole = prorated_value(first, last, fee, billing_day)
    parts = prorated_value(first, middle, fee, billing_day) + prorated_value(
        middle + timedelta(days=1), last, fee, billing_day
    )
    assert abs(whole - parts) <= D("0.01")


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_property_format_money_reads_back(amount: Decimal) -> None:
    text = format_money(amount, "USD")
    assert D(text.replace("$", "").replace(",", "")) == amount
    assert format_money(amount, "EUR").endswith(" EUR")

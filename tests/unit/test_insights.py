"""The reasons roll-up (savedesk.insights) and the weekly digest built on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from savedesk.emails import render_email
from savedesk.insights import activity, cohort, decided_at, iso_week, monthly, outcome, top_reasons, weekly
from savedesk.models import Case, CaseStatus, ClientAccount, ExitReasons, MeetingOutcome
from savedesk.steps.send_weekly_digest import build, digest_context, send_weekly_digest
from tests.unit.step_fakes import new_case_store

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # a Monday: the digest's schedule


def make_case(
    n: int = 1,
    *,
    status: CaseStatus = CaseStatus.OPEN,
    opened: datetime = NOW - timedelta(days=3),
    mrr: str = "4000.00",
    currency: str = "USD",
    meeting: str | None = None,
    mrr_saved: str | None = None,
    decided: datetime | None = None,
    offboarding_reason: str | None = None,
    codes: list[str] | None = None,
    meeting_codes: list[str] | None = None,
    company: str = "Acme Dental Group",
    closed: datetime | None = None,
) -> Case:
    return Case(
        case_id=f"case-{n:04d}",
        status=status,
        source="crm",
        delivery_id=f"d-{n}",
        opened_at=opened,
        updated_at=decided or opened,
        closed_at=closed,
        account=ClientAccount(
            account_id=f"ACME-{n}",
            company=company,
            contact_name="Dana Whitfield",
            contact_email="dana@acme-dental.example",
            account_manager_name="Priya Natarajan",
            account_manager_email="priya@topline-agency.example",
            mrr=Decimal(mrr),
            currency=currency,
        ),
        reasons=ExitReasons(codes=codes or []),
        meeting=(
            MeetingOutcome(
                outcome=meeting,  # type: ignore[arg-type]
                mrr_saved=Decimal(mrr_saved) if mrr_saved else None,
                reason_codes=meeting_codes or [],
                recorded_at=decided or opened + timedelta(days=1),
            )
            if meeting
            else None
        ),
        offboarding_reason=offboarding_reason,  # type: ignore[arg-type]
    )


# --- outcome: which cases count as saved, cancelled, open ---------------------------------------


@pytest.mark.parametrize(
    ("status", "meeting", "offboarding_reason", "expected"),
    [
        (CaseStatus.OPEN, None, None, "open"),
        (CaseStatus.OPEN, "reschedule", None, "open"),
        (CaseStatus.SAVED, "saved", None, "saved"),
        (CaseStatus.OFFBOARDING, "cancel", "cancel", "cancelled"),
        (CaseStatus.CLOSED, None, "timeout", "cancelled"),
        # Decided, but the status has not caught up yet (the next step sets it):
        (CaseStatus.OPEN, "cancel", None, "cancelled"),
        (CaseStatus.OPEN, "saved", None, "saved"),
        # A failure does not undo the client's decision...
        (CaseStatus.FAILED, "cancel", "cancel", "cancelled"),
        (CaseStatus.FAILED, None, "timeout", "cancelled"),
        (CaseStatus.FAILED, "saved", None, "saved"),
        # ... and before any decision it is still an open question.
        (CaseStatus.FAILED, None, None, "open"),
    ],
)
def test_outcome(status: CaseStatus, meeting: str | None, offboarding_reason: str | None, expected: str) -> None:
    case = make_case(status=status, meeting=meeting, offboarding_reason=offboarding_reason)
    assert outcome(case) == expected


def test_decided_at_is_the_meeting_outcome_or_else_the_close() -> None:
    at = NOW - timedelta(days=2)
    assert decided_at(make_case(status=CaseStatus.SAVED, meeting="saved", decided=at)) == at
    closed = NOW - timedelta(hours=5)
    timeout = make_case(status=CaseStatus.CLOSED, offboarding_reason="timeout", closed=closed)
    assert decided_at(timeout) == closed
    assert decided_at(make_case(status=CaseStatus.OPEN)) is None


# --- monthly roll-up (cohorts by opened_at) ------------------------------------------------------


def test_no_cases_gives_every_month_empty_with_no_save_rate() -> None:
    rollup = monthly([], NOW, months=12)
    assert [p.label for p in rollup.months][0] == "Dec 2025"
    assert [p.label for p in rollup.months][-1] == "Nov 2026"
    assert len(rollup.months) == 12
    assert all(p.opened == 0 and p.save_rate is None and not p.mrr_lost for p in rollup.months)
    assert rollup.total.opened == 0 and rollup.total.save_rate is None and rollup.total.reasons == []
    assert rollup.currencies == []


def test_a_month_with_only_open_cases_has_requests_but_no_save_rate() -> None:
    cases = [make_case(1, opened=datetime(2026, 11, 2, tzinfo=UTC)), make_case(2, opened=NOW - timedelta(days=1))]
    november = monthly(cases, NOW, months=2).months[-1]
    assert (november.opened, november.saved, november.cancelled, november.still_open) == (2, 0, 0, 2)
    assert november.save_rate is None
    assert november.mrr_saved == {} and november.mrr_lost == {}


def test_saved_and_cancelled_money_and_rate() -> None:
    cases = [
        # saved at a discount: the recorded MRR kept counts, not the full MRR
        make_case(1, status=CaseStatus.SAVED, meeting="saved", mrr="4000.00", mrr_saved="3400.00"),
        # saved without an amount recorded: the account's MRR
        make_case(2, status=CaseStatus.SAVED, meeting="saved", mrr="1500.00"),
        make_case(3, status=CaseStatus.CLOSED, meeting="cancel", mrr="2500.00"),
        make_case(4, status=CaseStatus.FAILED, offboarding_reason="timeout", mrr="1000.00"),
        make_case(5, status=CaseStatus.OPEN, mrr="9999.00"),
    ]
    period = monthly(cases, NOW, months=1).months[0]
    assert (period.opened, period.saved, period.cancelled, period.still_open) == (5, 2, 2, 1)
    assert period.save_rate == pytest.approx(0.5)
    assert period.mrr_saved == {"USD": Decimal("4900.00")}
    assert period.mrr_lost == {"USD": Decimal("3500.00")}


def test_several_currencies_are_kept_apart_never_converted() -> None:
    cases = [
        make_case(1, status=CaseStatus.CLOSED, meeting="cancel", mrr="1000.00", currency="EUR"),
        make_case(2, status=CaseStatus.CLOSED, meeting="cancel", mrr="3000.00", currency="USD"),
        make_case(3, status=CaseStatus.SAVED, meeting="saved", mrr="500.00", currency="EUR"),
    ]
    rollup = monthly(cases, NOW, months=1)
    assert rollup.total.mrr_lost == {"EUR": Decimal("1000.00"), "USD": Decimal("3000.00")}
    assert rollup.total.mrr_saved == {"EUR": Decimal("500.00")}
    assert rollup.currencies == ["USD", "EUR"]  # most money first


@pytest.mark.parametrize(
    ("opened", "month_index"),
    [
        (datetime(2026, 11, 1, 0, 0, tzinfo=UTC), 1),  # the first instant of November
        (datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC), 0),
        # 1 Nov 01:00 in New York is 1 Nov 05:00 UTC: November
        (datetime(2026, 11, 1, 1, 0, tzinfo=timezone(timedelta(hours=-4))), 1),
        # 1 Nov 02:00 at UTC+3 is still 31 Oct in UTC
        (datetime(2026, 11, 1, 2, 0, tzinfo=timezone(timedelta(hours=3))), 0),
    ],
)
def test_months_are_calendar_months_in_utc(opened: datetime, month_index: int) -> None:
    months = monthly([make_case(opened=opened)], NOW, months=2).months
    assert [p.opened for p in months] == [1 if i == month_index else 0 for i in range(2)]


def test_cases_outside_the_window_are_left_out() -> None:
    old = make_case(1, opened=datetime(2025, 1, 10, tzinfo=UTC), status=CaseStatus.CLOSED, meeting="cancel")
    future = make_case(2, opened=NOW + timedelta(days=40))
    rollup = monthly([old, future], NOW, months=3)
    assert rollup.total.opened == 0


def test_months_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        monthly([], NOW, months=0)


def test_year_boundary() -> None:
    rollup = monthly([make_case(opened=datetime(2027, 1, 5, tzinfo=UTC))], datetime(2027, 1, 20, tzinfo=UTC), 3)
    assert [p.label for p in rollup.months] == ["Nov 2026", "Dec 2026", "Jan 2027"]
    assert [p.opened for p in rollup.months] == [0, 0, 1]


# --- reasons ----------------------------------------------------------------------------------


def test_reasons_are_counted_once_per_case_with_labels_most_frequent_first() -> None:
    cases = [
        make_case(1, codes=["price", "results"], meeting="cancel", meeting_codes=["results"]),
        make_case(2, codes=["results"]),
        make_case(3, codes=["budget_cut"]),
        make_case(4, codes=["mystery"]),
    ]
    reasons = top_reasons(cases)
    assert [(r.code, r.label, r.count) for r in reasons] == [
        ("results", "Not seeing results", 2),
        # ties in the taxonomy's order; an unknown code keeps its code as label, last
        ("price", "Too expensive", 1),
        ("budget_cut", "Budget cut", 1),
        ("mystery", "mystery", 1),
    ]
    assert [r.code for r in top_reasons(cases, limit=2)] == ["results", "price"]


# --- the week (activity) ----------------------------------------------------------------------


def test_weekly_counts_decisions_taken_in_the_week_and_requests_that_came_in() -> None:
    week_start = NOW - timedelta(days=7)
    cases = [
        # opened long ago, saved this week: a save of this week, not a request of this week
        make_case(1, opened=NOW - timedelta(days=20), status=CaseStatus.SAVED, meeting="saved",
                  decided=NOW - timedelta(days=2), mrr_saved="3400.00", codes=["price"]),
        # opened and cancelled this week
        make_case(2, opened=NOW - timedelta(days=6), status=CaseStatus.CLOSED, meeting="cancel",
                  decided=NOW - timedelta(days=4), mrr="2500.00", currency="EUR", codes=["results"]),
        # decided before the week: not in it
        make_case(3, opened=NOW - timedelta(days=30), status=CaseStatus.CLOSED, meeting="cancel",
                  decided=week_start - timedelta(seconds=1)),
        # opened this week, still waiting
        make_case(4, opened=NOW - timedelta(days=1), company="Beacon Orthodontics"),
        # waiting for weeks
        make_case(5, opened=NOW - timedelta(days=16), company="Cedar Vets"),
    ]  # fmt: skip
    digest = weekly(cases, NOW)
    week = digest.last_7_days
    assert (week.opened, week.saved, week.cancelled, week.still_open) == (2, 1, 1, 1)
    assert week.mrr_saved == {"USD": Decimal("3400.00")}
    assert week.mrr_lost == {"EUR": Decimal("2500.00")}
    assert [r.code for r in week.reasons] == ["price", "results"]
    assert [(w.company, w.waiting_days) for w in digest.waiting] == [("Cedar Vets", 16), ("Beacon Orthodontics", 1)]
    assert digest.week == "2026-W49"
    # Month to date: November, the case decided on 22 Nov (week_start - 1 s) included
    assert digest.month_to_date.cancelled == 2 and digest.month_to_date.saved == 1


def test_activity_window_is_half_open() -> None:
    start, end = NOW - timedelta(days=7), NOW
    at_start = make_case(1, status=CaseStatus.SAVED, meeting="saved", opened=start - timedelta(days=3), decided=start)
    at_end = make_case(2, status=CaseStatus.SAVED, meeting="saved", opened=start - timedelta(days=3), decided=end)
    assert activity([at_start, at_end], start, end, "w").saved == 1
    assert cohort([make_case(3, opened=end)], start, end, "w").opened == 0


@pytest.mark.parametrize(
    ("now", "week"),
    [
        (datetime(2026, 11, 30, 8, 0, tzinfo=UTC), "2026-W49"),
        (datetime(2026, 12, 6, 23, 59, tzinfo=UTC), "2026-W49"),  # Sunday: the same week
        (datetime(2027, 1, 1, 8, 0, tzinfo=UTC), "2026-W53"),  # ISO years differ from calendar years
    ],
)
def test_iso_week(now: datetime, week: str) -> None:
    assert iso_week(now) == week


# --- the digest email ---------------------------------------------------------------------------


def test_digest_email_carries_the_numbers() -> None:
    cases = [
        make_case(1, opened=NOW - timedelta(days=10), status=CaseStatus.SAVED, meeting="saved",
                  decided=NOW - timedelta(days=2), mrr_saved="3400.00", codes=["price"]),
        make_case(2, opened=NOW - timedelta(days=9), company="Cedar Vets"),
    ]  # fmt: skip
    digest, email = build(cases, NOW)
    assert email.subject == "SaveDesk weekly (2026-W49): 1 saved, 0 cancelled, 1 waiting"
    for part in (email.text, email.html):
        assert "$3,400.00" in part
        assert "Too expensive" in part
        assert "Cedar Vets" in part and "case-0002" in part and "9 days" in part
        assert "100 %" in part  # 1 saved of 1 decided
    assert "November 2026 to date" in email.html and "NOVEMBER 2026 TO DATE" in email.text


def test_digest_with_nothing_happening_says_so() -> None:
    _, email = build([], NOW)
    assert "nothing decided" in email.text and "None: every request has an outcome." in email.text
    assert "(no reasons recorded)" in email.text


def test_digest_escapes_what_the_crm_sent() -> None:
    hostile = '<script>alert("x")</script> & Co'
    _, email = build([make_case(company=hostile)], NOW)
    assert "<script" not in email.html
    assert "&lt;script&gt;" in email.html
    assert hostile in email.text


def test_digest_context_rounds_the_rate_to_whole_percent() -> None:
    cases = [make_case(i, status=CaseStatus.SAVED, meeting="saved", decided=NOW - timedelta(days=1)) for i in (1, 2)]
    cases.append(make_case(3, status=CaseStatus.CLOSED, meeting="cancel", decided=NOW - timedelta(days=1)))
    context = digest_context(weekly(cases, NOW))
    assert context.last_7_days.save_rate_percent == 67
    render_email("weekly_digest", context)  # and it renders


# --- sending once per week ------------------------------------------------------------------------


class FakeStore:
    def __init__(self, cases: list[Case]) -> None:
        self.cases = cases
        self.weeks: set[str] = set()

    def list_cases(self, status: Any = None, limit: int = 200) -> list[Case]:
        return self.cases[:limit]

    def record_digest(self, week: str) -> bool:
        if week in self.weeks:
            return False
        self.weeks.add(week)
        return True

    def forget_digest(self, week: str) -> None:
        self.weeks.discard(week)


class FakeMailer:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[list[str], str, str]] = []
        self.fail = fail

    def send(self, to: list[str], rendered: Any, *, case_id: str) -> str:
        if self.fail:
            raise RuntimeError("ses is down")
        self.sent.append((to, rendered.subject, case_id))
        return f"msg-{len(self.sent)}"


def test_the_digest_is_sent_once_per_iso_week() -> None:
    store, mailer = FakeStore([make_case()]), FakeMailer()
    first = send_weekly_digest(store, mailer, "joey@topline-agency.example", NOW)
    again = send_weekly_digest(store, mailer, "joey@topline-agency.example", NOW + timedelta(hours=3))
    assert first.sent and first.message_id == "msg-1" and first.week == "2026-W49"
    assert not again.sent and again.message_id is None
    assert mailer.sent == [(["joey@topline-agency.example"], first.subject, "digest-2026-W49")]
    # forced: sent again; next week: a new digest
    assert send_weekly_digest(store, mailer, "joey@topline-agency.example", NOW, force=True).sent
    assert send_weekly_digest(store, mailer, "joey@topline-agency.example", NOW + timedelta(days=7)).sent
    assert len(mailer.sent) == 3


def test_a_failed_send_releases_the_week_so_the_retry_sends() -> None:
    store = FakeStore([])
    with pytest.raises(RuntimeError, match="ses is down"):
        send_weekly_digest(store, FakeMailer(fail=True), "joey@topline-agency.example", NOW)
    assert store.weeks == set()
    assert send_weekly_digest(store, FakeMailer(), "joey@topline-agency.example", NOW).sent


def test_case_store_records_a_digest_week_once(dynamodb: Any) -> None:
    store = new_case_store(dynamodb)
    assert store.record_digest("2026-W49") is True
    assert store.record_digest("2026-W49") is False
    assert store.record_digest("2026-W50") is True
    store.forget_digest("2026-W49")
    assert store.record_digest("2026-W49") is True
    # The digest records are not cases: listing cases ignores them.
    assert store.list_cases() == []

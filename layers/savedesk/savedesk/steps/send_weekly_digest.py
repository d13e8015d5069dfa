"""The owner's weekly digest: a scheduled function (Monday 08:00 UTC), not a checklist step.

The numbers come from savedesk.insights (the last 7 days by activity, the month to date, and the
cases still waiting for a meeting outcome). One digest per ISO week: the week is claimed in the
store before sending and released again if the send fails, so a retry of the schedule (or a
manual `savedesk digest --send` later that week) does not send a second one. A Lambda killed
between the claim and the send leaves the week claimed and unsent; `--force` sends it anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from savedesk.emails import (
    Amount,
    DigestPeriod,
    ReasonTally,
    RenderedEmail,
    WaitingCase,
    WeeklyDigestContext,
    render_email,
)
from savedesk.insights import Digest, Period, weekly
from savedesk.models import Case

OWNER_FIRST_NAME = "Joey"


class DigestStore(Protocol):
    def list_cases(self, status: Any = None, limit: int = 200) -> list[Case]: ...
    def record_digest(self, week: str) -> bool: ...
    def forget_digest(self, week: str) -> None: ...


class Sender(Protocol):
    def send(self, to: list[str], rendered: Any, *, case_id: str) -> str: ...


@dataclass(frozen=True)
class DigestResult:
    week: str
    sent: bool
    message_id: str | None
    subject: str


# Every case ever opened is read: a few hundred a year is one scan page or two. Cases still waiting
# may be old, so the scan cannot stop at the digest's window.
ALL_CASES = 100_000


def _period(period: Period) -> DigestPeriod:
    return DigestPeriod(
        label=period.label,
        opened=period.opened,
        saved=period.saved,
        cancelled=period.cancelled,
        save_rate_percent=None if period.save_rate is None else round(period.save_rate * 100),
        mrr_saved=[Amount(amount=v, currency=c) for c, v in period.mrr_saved.items()],
        mrr_lost=[Amount(amount=v, currency=c) for c, v in period.mrr_lost.items()],
        reasons=[ReasonTally(label=r.label, count=r.count) for r in period.reasons],
    )


def digest_context(digest: Digest, agency_name: str = "Topline") -> WeeklyDigestContext:
    return WeeklyDigestContext(
        agency_name=agency_name,
        recipient_first_name=OWNER_FIRST_NAME,
        week=digest.week,
        last_7_days=_period(digest.last_7_days),
        month_to_date=_period(digest.month_to_date),
        waiting=[
            WaitingCase(
                case_id=w.case_id,
                company=w.company,
                account_manager_name=w.account_manager,
                opened_on=w.opened_at.date(),
                waiting_days=w.waiting_days,
            )
            for w in digest.waiting
        ],
    )


def build(cases: list[Case], now: datetime, agency_name: str = "Topline") -> tuple[Digest, RenderedEmail]:
    digest = weekly(cases, now)
    return digest, render_email("weekly_digest", digest_context(digest, agency_name))


def send_weekly_digest(
    store: DigestStore,
    mailer: Sender,
    owner_email: str,
    now: datetime,
    *,
    agency_name: str = "Topline",
    force: bool = False,
) -> DigestResult:
    """Send this ISO week's digest to the owner once; `force` sends even if the week was claimed."""
    digest, email = build(store.list_cases(limit=ALL_CASES), now, agency_name)
    claimed = store.record_digest(digest.week)
    if not claimed and not force:
        return DigestResult(digest.week, sent=False, message_id=None, subject=email.subject)
    try:
        # SES tags want a case id; the week stands in for it, so bounces still say which digest.
        message_id = mailer.send([owner_email], email, case_id=f"digest-{digest.week}")
    except Exception:
        if claimed:
            store.forget_digest(digest.week)
        raise
    return DigestResult(digest.week, sent=True, message_id=message_id, subject=email.subject)

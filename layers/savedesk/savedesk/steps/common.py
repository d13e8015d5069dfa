"""Small pieces several steps share: email context basics, links, Slack destinations, dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from savedesk.errors import MissingClientData
from savedesk.models import Case
from savedesk.store import CaseStore


def client_email_basics(case: Case, settings: Any) -> dict[str, Any]:
    account = case.account
    return {
        "case_id": case.case_id,
        "company": account.company,
        "account_manager_name": account.account_manager_name,
        "account_manager_email": account.account_manager_email,
        "agency_name": settings.agency_name,
        "contact_first_name": account.contact_first_name,
    }


def internal_email_basics(case: Case, settings: Any) -> dict[str, Any]:
    basics = client_email_basics(case, settings)
    del basics["contact_first_name"]
    return basics


def form_link(form_url: str, case_id: str) -> str:
    """A Typeform link with the case id as hidden field (Typeform reads hidden fields from the fragment)."""
    return f"{form_url}#case_id={quote(case_id)}"


def console_link(region: str, execution_arn: str | None) -> str:
    """The Step Functions console page of an execution (or of all state machines, when unknown)."""
    base = f"https://{region}.console.aws.amazon.com/states/home?region={region}"
    return (
        f"{base}#/v2/executions/details/{quote(execution_arn, safe=':')}" if execution_arn else f"{base}#/statemachines"
    )


def require_slack_channel(case: Case) -> str:
    if not case.account.slack_channel:
        raise MissingClientData(
            f"{case.account.company} has no Slack channel on file (CRM property for slack_channel); "
            "add it in the CRM, then re-run this step"
        )
    return case.account.slack_channel


def account_manager_destination(case: Case, settings: Any) -> str:
    """The account manager's DM when we know their Slack id; otherwise the ops channel."""
    return case.account.account_manager_slack_id or settings.ops_slack_channel


def next_business_day_at(start: datetime, days: int, hour_utc: int) -> datetime:
    """`days` business days after `start`, at `hour_utc`:00 UTC (weekends skipped)."""
    day = start.date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            remaining -= 1
    return datetime.combine(day, time(hour_utc, 0), tzinfo=UTC)


def today() -> date:
    return datetime.now(UTC).date()


def posted_ref(posted: Any) -> dict[str, str]:
    """What to record of a Slack post: channel and ts identify it (to thread, or to skip a re-post)."""
    return {"channel": posted.channel, "ts": posted.ts}


def ensure_clickup_task(clickup: Any, list_id: str, tag: str, name: str, markdown: str, **fields: Any) -> str:
    """The id of the list's task carrying `tag`, created (with the tag) if there is none.

    ClickUp has no idempotency key: a task that carries our case-and-step tag is the proof
    that an earlier attempt got through, even when its answer was lost.
    """
    existing = clickup.find_task_by_tag(list_id, tag)
    if existing is not None:
        return str(existing.id)
    tags = [tag, *fields.pop("tags", [])]
    return str(clickup.create_task(list_id, name=name, markdown=markdown, tags=tags, **fields).id)


def recorded_details(store: CaseStore, case_id: str, step: str) -> dict[str, Any]:
    """The details a finished step recorded, or {} when it did not run or did not finish."""
    recorded = store.get_step(case_id, step)
    if not recorded or recorded.get("status") != "COMPLETED":
        return {}
    details = (recorded.get("result") or {}).get("details")
    return details if isinstance(details, dict) else {}


def as_date(value: object) -> date | None:
    """An ISO date or datetime string as a date; None for anything else."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        return None


def as_amount(value: object) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def months_between(start: date, end: date) -> int:
    """Whole calendar months from `start` to `end` (0 when `end` is earlier)."""
    months = (end.year - start.year) * 12 + (end.month - start.month) - (1 if end.day < start.day else 0)
    return max(0, months)


def tenure_months(case: Case, on: date) -> int:
    start = case.account.contract_start or case.opened_at.date()
    return months_between(start, on)

"""Offboarding on the local stack: every checklist item's effect, checked on the vendor stand-ins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from local.stack import LocalStack
from savedesk.contract_terms import add_months
from savedesk.models import CaseStatus
from tests.integration.conftest import (
    cancel_body,
    case_store,
    emails_to,
    entered_states,
    load_event,
    post_standard,
    wait_for,
    wait_for_execution_end,
    wait_for_token,
)

pytestmark = pytest.mark.stack

CLIENT_FOLDER_LISTS = {"901300011", "901300012"}


@pytest.fixture(autouse=True)
def business_plus_clickup(stack: LocalStack) -> None:
    # Acme's 122 open tasks fit Business Plus's 1,000 requests a minute; the Free plan's 100 a
    # minute (the stand-in's default) has its own tests in tests/contract.
    stack.vendor("clickup").rate_limit = 1000


def cancel_case(stack: LocalStack, **overrides: Any) -> tuple[str, dict[str, Any]]:
    body = cancel_body(**overrides)
    response = post_standard(stack, "/webhooks/crm", body)
    assert response.status_code == 202, response.text
    case_id = response.json()["case_id"]
    wait_for_token(stack, case_id)
    outcome = load_event("form-meeting-outcome-cancel.json") | {"case_id": case_id}
    assert post_standard(stack, "/webhooks/forms", outcome).status_code == 200
    return case_id, body


def prepaid_quarter() -> str:
    """Paid up to the end of the month three months from now: with 30 days' notice, two or three
    months of that are unused and refundable ($2,000+ at $1,000 a month, above the approval threshold)."""
    today = datetime.now(UTC).date()
    return (add_months(date(today.year, today.month, 1), 4) - timedelta(days=1)).isoformat()


def mentions(message: Any, text: str) -> bool:
    return any(text in part.get_content() for part in message.walk() if part.get_content_maintype() == "text")


def slack_texts(stack: LocalStack, channel: str) -> str:
    return "\n".join(str(m) for m in stack.vendor("slack").messages(channel))


def test_a_cancelled_client_is_offboarded_through_every_checklist_item(stack: LocalStack) -> None:
    # Given the demo client, who says "cancel" in the save meeting
    case_id, body = cancel_case(stack)
    # When the workflow runs to the end
    result = wait_for_execution_end(stack, case_id, timeout=120)
    # Then it ends Closed, through every checklist state
    assert result["status"] == "SUCCEEDED"
    states = entered_states(stack, case_id)
    for state in (
        "DocumentCancellationReasons",
        "CompleteBillingRequest",
        "FollowUpOutstandingPayments",
        "ProcessRefund",
        "DeactivateToplineAccess",
        "CloseClickUpProjects",
        "PauseAdCampaigns",
        "ConfirmClosure",
        "SendThankYouNote",
        "AnalyseFeedback",
        "ScheduleTeamDebrief",
        "CloseCase",
    ):
        assert states.count(state) == 1, state
    assert states[-1] == "Closed"
    case = case_store(stack).get_case(case_id)
    assert case.status == CaseStatus.CLOSED and case.closed_at is not None
    assert case_store(stack).open_case_for_account(body["account_id"]) is None

    # 4. Reasons: noted in the client's Slack channel
    notes = slack_texts(stack, "C0ACME0001")
    assert "Not seeing results" in notes and "Too expensive" in notes

    # 5. Billing stops at the end of the minimum term (31 Dec 2026), through the subscription
    subscription = stack.vendor("stripe").subscriptions["sub_AcmeRetainer01"]
    assert subscription["cancel_at"] == int(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())
    stripe_posts = stack.calls.of("stripe", "/v1/subscriptions/", method="POST")
    assert len(stripe_posts) == 1 and stripe_posts[0]["headers"].get("Idempotency-Key")

    # 6. Outstanding payment: one reminder with the open invoice's amount
    client_mail = {m["Subject"]: m for m in emails_to(stack, body["contact_email"])}
    reminder = next(m for s, m in client_mail.items() if "open invoice" in s)
    assert "$1,200.00" in reminder.get_body(("plain",)).get_content()

    # 7. Refund: none is due inside the minimum term, and none was made
    assert stack.calls.of("stripe", "/v1/refunds", method="POST") == []

    # 8. Topline access revoked and verified
    account = stack.vendor("topline").accounts["tl_acme_001"]
    assert account["status"] == "deactivated"
    assert not any(u["active"] for u in account["users"])
    assert not any(i["connected"] for i in account["integrations"])

    # 9. Every open task of the client's folder is closed
    clickup = stack.vendor("clickup")
    client_tasks = [t for t in clickup.tasks.values() if t["list_id"] in CLIENT_FOLDER_LISTS]
    assert client_tasks and all(t["status"]["type"] == "closed" for t in client_tasks)

    # 10. One urgent ClickUp task for the ads team, due today
    ads = [t for t in clickup.tasks.values() if t["list_id"] == "901200777"]
    assert len(ads) == 1
    assert ads[0]["priority"] == 1  # urgent
    due = datetime.fromtimestamp(int(ads[0]["due_date"]) / 1000, tz=UTC).date()
    assert due == datetime.now(UTC).date()

    # 11 + 13. Closure confirmed, thank-you sent, a handwritten card ordered once
    assert any("closed" in s.lower() for s in client_mail)
    assert any(s.startswith("Thank you") for s in client_mail)
    orders = list(stack.vendor("mailfold").orders.values())
    assert len(orders) == 1 and orders[0]["reference"] == f"{case_id}-thank-you"

    # 12. The owner's review (email + Slack)
    # The owner and the coordinator get mail for every case of the session: keep this case's.
    review = [m for m in emails_to(stack, "joey@topline-agency.example") if mentions(m, case_id)]
    assert len(review) == 1 and "$4,000.00" in review[0]["Subject"]
    assert "<@U0JOEY0001>" in slack_texts(stack, "C0OPS00001")

    # 14. The team debrief: an invite with .ics to the coordinator (AM in cc) and a ClickUp task
    debrief = [m for m in emails_to(stack, "coordinator@topline-agency.example") if mentions(m, case_id)]
    assert len(debrief) == 1 and body["account_manager_email"] in debrief[0]["Cc"]
    assert any(p.get_content_type() == "text/calendar" for p in debrief[0].walk())
    assert len([t for t in clickup.tasks.values() if t["list_id"] == "901200888"]) == 1

    # Every client email was sent once
    assert len(emails_to(stack, body["contact_email"])) == len(client_mail)


def test_no_slack_channel_fails_the_reasons_step_with_a_clear_message(stack: LocalStack) -> None:
    case_id, _ = cancel_case(stack, slack_channel=None)
    result = wait_for_execution_end(stack, case_id, timeout=60)
    assert result["status"] == "FAILED"
    assert entered_states(stack, case_id)[-1] == "StepFailed"
    case = case_store(stack).get_case(case_id)
    assert case.status == CaseStatus.FAILED
    # Ops were told which step failed and why, in words a person can act on
    alert = slack_texts(stack, "C0OPS00001")
    assert "DocumentCancellationReasons" in alert and "no Slack channel on file" in alert
    # And nothing after it ran
    assert "CompleteBillingRequest" not in entered_states(stack, case_id)


def test_no_billing_customer_fails_the_billing_request_with_a_clear_message(stack: LocalStack) -> None:
    case_id, _ = cancel_case(stack, billing_customer_id=None)
    result = wait_for_execution_end(stack, case_id, timeout=90)
    assert result["status"] == "FAILED"
    alert = slack_texts(stack, "C0OPS00001")
    assert "CompleteBillingRequest" in alert
    assert "billing customer" in alert.lower()
    assert stack.calls.of("stripe", "/v1/subscriptions", method="POST") == []
    assert case_store(stack).get_case(case_id).status == CaseStatus.FAILED


def test_a_large_refund_waits_for_approval_then_is_issued_once(stack: LocalStack) -> None:
    # Given a client past their minimum term with three months prepaid: about $2,000 is refundable,
    # above the $1,000 approval threshold
    case_id, _ = cancel_case(stack, contract_start="2025-01-01", mrr="1000.00", prepaid_through=prepaid_quarter())
    # When the workflow reaches the refund, it asks for approval and waits
    wait_for_token(stack, case_id, kind="refund", timeout=60)
    assert stack.calls.of("stripe", "/v1/refunds", method="POST") == []
    assert "approv" in slack_texts(stack, "C0OPS00001").lower()
    # And when the owner approves it
    approval = load_event("form-refund-approval.json") | {"case_id": case_id}
    response = post_standard(stack, "/webhooks/forms", approval)
    assert response.status_code == 200, response.text
    # Then the refund is issued once, with an idempotency key, and the case closes
    assert wait_for_execution_end(stack, case_id, timeout=120)["status"] == "SUCCEEDED"
    refunds = stack.calls.of("stripe", "/v1/refunds", method="POST")
    assert len(refunds) == 1 and refunds[0]["status"] == 200
    assert refunds[0]["headers"].get("Idempotency-Key", "").startswith(case_id)
    assert entered_states(stack, case_id).count("ProcessRefund") == 2
    # A second approval for the same case is refused
    again = post_standard(stack, "/webhooks/forms", approval)
    assert again.status_code == 409


def test_a_rejected_refund_is_not_issued(stack: LocalStack) -> None:
    case_id, _ = cancel_case(stack, contract_start="2025-01-01", mrr="1000.00", prepaid_through=prepaid_quarter())
    wait_for_token(stack, case_id, kind="refund", timeout=60)
    rejection = load_event("form-refund-approval.json") | {"case_id": case_id, "approved": False}
    assert post_standard(stack, "/webhooks/forms", rejection).status_code == 200
    assert wait_for_execution_end(stack, case_id, timeout=120)["status"] == "SUCCEEDED"
    assert stack.calls.of("stripe", "/v1/refunds", method="POST") == []
    refund = case_store(stack).get_step(case_id, "ProcessRefund")
    assert refund["result"]["details"]["status"] == "rejected"


def test_offboarding_waits_until_the_outcome_when_the_meeting_is_unanswered(stack: LocalStack) -> None:
    # The timeout path (no outcome) hands over to the same offboarding as a "cancel".
    body = cancel_body()
    case_id = post_standard(stack, "/webhooks/crm", body).json()["case_id"]
    wait_for(lambda: "Offboard" in entered_states(stack, case_id), timeout=45, what="offboarding")
    assert case_store(stack).get_case(case_id).offboarding_reason == "timeout"

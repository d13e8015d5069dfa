"""The save path on the local stack: acknowledge, review, meeting, and each meeting outcome."""

from __future__ import annotations

from typing import Any

import pytest

from local.stack import LocalStack
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


def outcome(case_id: str, name: str = "form-meeting-outcome-saved.json", **overrides: Any) -> dict[str, Any]:
    return load_event(name) | {"case_id": case_id} | overrides


def start_case(stack: LocalStack, **overrides: Any) -> tuple[str, dict[str, Any]]:
    body = cancel_body(**overrides)
    response = post_standard(stack, "/webhooks/crm", body)
    assert response.status_code == 202, response.text
    return response.json()["case_id"], body


def test_saved_in_the_meeting(stack: LocalStack) -> None:
    # Given a cancellation waiting for its meeting outcome
    case_id, body = start_case(stack)
    wait_for_token(stack, case_id)
    # When the account manager records "saved"
    response = post_standard(stack, "/webhooks/forms", outcome(case_id))
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "saved"
    # Then the workflow ends as Saved, without any offboarding step
    result = wait_for_execution_end(stack, case_id)
    assert result["status"] == "SUCCEEDED"
    states = entered_states(stack, case_id)
    assert states[-1] == "Saved"
    assert "DocumentCancellationReasons" not in states and "Offboard" not in states
    case = case_store(stack).get_case(case_id)
    assert case.status == CaseStatus.SAVED
    assert case.meeting.offer_code == "discount" and str(case.meeting.mrr_saved) == "3400.00"
    # The client got: acknowledgement, meeting invitation (with an .ics), glad-you're-staying
    subjects = [m["Subject"] for m in emails_to(stack, body["contact_email"])]
    assert len(subjects) == 3, subjects
    invitation = emails_to(stack, body["contact_email"])[1]
    assert any(p.get_content_type() == "text/calendar" for p in invitation.walk())
    # Slack: the meeting brief to the AM, the save note in the client's channel
    slack = stack.vendor("slack")
    assert any("Saved" in str(m) for m in slack.messages("C0ACME0001"))
    assert any("Save meeting" in str(m) for m in slack.messages("U0AM00001"))
    # ClickUp: one meeting task in the account management list
    assert len(stack.calls.of("clickup", "/list/901200999/task", method="POST")) == 1
    # And the account can cancel again some day: its open-case lock is released
    assert case_store(stack).open_case_for_account(body["account_id"]) is None


def test_cancel_in_the_meeting_goes_on_to_offboarding(stack: LocalStack) -> None:
    case_id, _ = start_case(stack)
    wait_for_token(stack, case_id)
    response = post_standard(stack, "/webhooks/forms", outcome(case_id, "form-meeting-outcome-cancel.json"))
    assert response.status_code == 200, response.text
    wait_for(lambda: "DocumentCancellationReasons" in entered_states(stack, case_id), what="offboarding to start")
    case = case_store(stack).get_case(case_id)
    assert case.meeting.outcome == "cancel"
    assert {"results", "price"} <= set(case.reasons.codes)
    assert "RecordSave" not in entered_states(stack, case_id)


def test_reschedule_then_saved(stack: LocalStack) -> None:
    case_id, _ = start_case(stack)
    first_token = wait_for_token(stack, case_id)
    response = post_standard(
        stack, "/webhooks/forms", outcome(case_id, outcome="reschedule", next_meeting_at="2026-12-03T15:00:00Z")
    )
    assert response.status_code == 200, response.text
    # A new wait, with a new token
    second_token = wait_for(
        lambda: (t := case_store(stack).peek_task_token(case_id, "meeting")) != first_token and t, what="a second wait"
    )
    assert second_token
    assert post_standard(stack, "/webhooks/forms", outcome(case_id)).status_code == 200
    assert wait_for_execution_end(stack, case_id)["status"] == "SUCCEEDED"
    states = entered_states(stack, case_id)
    assert states.count("WaitForMeetingOutcome") == 2
    assert states[-1] == "Saved"


def test_no_outcome_in_time_reminds_escalates_and_offboards(stack: LocalStack) -> None:
    # Given local waits of 4 s before the reminder and 4 s more before escalation
    case_id, body = start_case(stack)
    # When nobody records an outcome
    wait_for(
        lambda: "DocumentCancellationReasons" in entered_states(stack, case_id),
        timeout=45,
        what="the escalation to hand over to offboarding",
    )
    # Then the AM was reminded, ops and the owner were told, and the case offboards as a timeout
    states = entered_states(stack, case_id)
    assert states.index("SendMeetingReminder") < states.index("EscalateMissingOutcome")
    slack = stack.vendor("slack")
    assert any("Reminder" in str(m) or "isn't recorded yet" in str(m) for m in slack.messages("U0AM00001"))
    assert any("Escalation" in str(m) for m in slack.messages("C0OPS00001"))
    assert emails_to(stack, "joey@topline-agency.example")
    assert case_store(stack).get_case(case_id).offboarding_reason == "timeout"


def test_outcome_for_unknown_or_decided_case_is_a_clear_4xx(stack: LocalStack) -> None:
    unknown = post_standard(stack, "/webhooks/forms", outcome("case-doesnotexist0000000"))
    assert unknown.status_code == 422
    assert unknown.json()["error"] == "unknown_case"

    case_id, _ = start_case(stack)
    wait_for_token(stack, case_id)
    assert post_standard(stack, "/webhooks/forms", outcome(case_id)).status_code == 200
    wait_for_execution_end(stack, case_id)
    again = post_standard(stack, "/webhooks/forms", outcome(case_id, "form-meeting-outcome-cancel.json"))
    assert again.status_code == 409
    assert again.json()["error"] == "already_decided"
    assert case_store(stack).get_case(case_id).status == CaseStatus.SAVED


def test_exit_survey_answers_are_stored_and_do_not_resume_the_workflow(stack: LocalStack) -> None:
    import time

    from local.client import send_typeform

    case_id, _ = start_case(stack)
    wait_for_token(stack, case_id)
    survey = load_event("typeform-exit-survey.json")
    survey["event_id"] = f"evt-{time.time_ns()}"
    survey["form_response"]["hidden"]["case_id"] = case_id
    response = send_typeform(stack.api_url, survey)
    assert response.status_code == 200, response.text
    replay = send_typeform(stack.api_url, survey)
    assert replay.json()["duplicate"] == "duplicate_delivery"
    case = case_store(stack).get_case(case_id)
    assert case.reasons.codes == ["results", "price"]
    assert "Leads dropped after the summer and the reports didn't explain why." in case.reasons.comments
    assert case_store(stack).peek_task_token(case_id, "meeting") is not None  # still waiting

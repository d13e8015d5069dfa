"""The closing offboarding steps (checklist items 4, 11, 12, 13, 14) through the real step runner.

The store is the real CaseStore on a moto table; only the mailer and the vendor clients are fakes
(tests/unit/step_fakes.py). Each step runs through `run_step`, as its Lambda does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from local.sandbox import mailfold as mailfold_stand_in
from local.sandbox.app import serve
from savedesk.errors import MissingClientData, VendorError
from savedesk.integrations.mailfold import MailfoldClient
from savedesk.integrations.mailfold import PostalAddress as CardAddress
from savedesk.models import Case, CaseStatus, ExitReasons, MeetingOutcome
from savedesk.steps import (
    analyse_feedback,
    common,
    confirm_closure,
    document_cancellation_reasons,
    schedule_team_debrief,
    send_thank_you_note,
)
from savedesk.store import CaseStore
from tests.unit.step_fakes import (
    CASE_ID,
    Deps,
    demo_case,
    details,
    open_case,
    record_step,
    run,
    settings,
)

TODAY = date(2026, 12, 2)
HOSTILE = "<!channel> call <@U0JOEY0001> now & see <https://evil.example|your invoice>"


@pytest.fixture
def deps() -> Deps:
    return Deps.with_fakes()


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    # The steps read "today" through steps.common.today, imported into each module.
    for module in (confirm_closure, send_thank_you_note, analyse_feedback):
        monkeypatch.setattr(module, "today", lambda: TODAY)


def cancelled(case: Case, notes: str = "The partners decided to bring paid social in-house.") -> Case:
    """The case as the forms leave it after an exit survey and a 'cancel' meeting outcome."""
    return case.model_copy(
        update={
            "reasons": ExitReasons(
                codes=["results", "in_house"],
                comments=["Reports were hard for our partners to read.", notes],
                sources=["exit_survey", "meeting"],
            ),
            "meeting": MeetingOutcome(
                outcome="cancel",
                offer_code="discount",
                recorded_by="priya@topline-agency.example",
                notes=notes,
                reason_codes=["in_house"],
            ),
        }
    )


def block_texts(blocks: list[dict[str, Any]]) -> str:
    """Every text Slack would render from the blocks, joined: what a reader (and Slack's parser) sees."""
    texts: list[str] = []
    for block in blocks:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [f["text"] for f in block.get("fields", [])]
        texts += [e["text"] for e in block.get("elements", []) if "text" in e and isinstance(e["text"], str)]
    return "\n".join(texts)


# -- 4. DocumentCancellationReasons -----------------------------------------------------------


def test_reasons_are_documented_and_the_notes_posted_once(store: CaseStore, deps: Deps) -> None:
    # Given a client who confirmed the cancellation at the save meeting
    open_case(store, cancelled(demo_case()))

    # When the step runs, and runs again (a Lambda retry or a redrive)
    first = run("DocumentCancellationReasons", document_cancellation_reasons.run, store, deps)
    second = run("DocumentCancellationReasons", document_cancellation_reasons.run, store, deps)

    # Then the case is offboarding for a "cancel", and one notes message went to the client's channel
    case = store.get_case(CASE_ID)
    assert case is not None
    assert case.status == CaseStatus.OFFBOARDING
    assert case.offboarding_reason == "cancel"
    assert len(deps.slack.posts) == 1
    post = deps.slack.posts[0]
    assert post["channel"] == "C0ACME0001"
    text = block_texts(post["blocks"])
    assert "Not seeing results" in text
    assert "Taking marketing in-house" in text
    assert ">Reports were hard for our partners to read." in text
    assert "Cancellation confirmed at the save meeting" in text
    assert "*Commitment ends*\n31 Dec 2026" in text
    assert "*Still owed*\n$4,000.00" in text  # what the minimum term still asks for
    assert post["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Cancellation notes: Acme Dental Group", "emoji": True},
    }
    assert details(store, "DocumentCancellationReasons") == {
        "reason_codes": ["results", "in_house"],
        "comments": 2,
        "slack": {"channel": "C0ACME0001", "ts": "1764000000.000001"},
        "offboarding_reason": "cancel",
    }
    assert first["replayed"] is False and second["replayed"] is True
    assert "Acme" not in first["summary"] and "Dana" not in first["summary"]


def test_hostile_reason_text_cannot_ping_or_link_in_slack(store: CaseStore, deps: Deps) -> None:
    # Given reasons typed by the client that hold Slack control sequences
    open_case(store, cancelled(demo_case(), notes=HOSTILE))

    # When the notes are posted
    run("DocumentCancellationReasons", document_cancellation_reasons.run, store, deps)

    # Then the text arrives escaped: no @channel, no user mention, no disguised link
    text = block_texts(deps.slack.posts[0]["blocks"])
    assert "<!channel>" not in text
    assert "<@U0JOEY0001>" not in text
    assert "<https://evil.example" not in text
    assert "&lt;!channel&gt; call &lt;@U0JOEY0001&gt; now &amp; see &lt;https://evil.example|your invoice&gt;" in text


def test_no_slack_channel_stops_the_step_with_missing_client_data(store: CaseStore, deps: Deps) -> None:
    # Given a client without a Slack channel in the CRM
    open_case(store, cancelled(demo_case(slack_channel=None)))

    # When the step runs
    with pytest.raises(MissingClientData) as raised:
        run("DocumentCancellationReasons", document_cancellation_reasons.run, store, deps)

    # Then it fails loudly, naming the CRM field and the fix, and posts nothing
    message = str(raised.value)
    assert message.startswith("[DocumentCancellationReasons]")
    assert "no Slack channel on file" in message
    assert "slack_channel" in message
    assert "re-run" in message
    assert deps.slack.posts == []
    assert store.get_step(CASE_ID, "DocumentCancellationReasons")["status"] == "STARTED"  # type: ignore[index]
    failures = [e for e in store.events(CASE_ID) if e["kind"] == "step_failed"]
    assert failures[0]["detail"]["error"] == "MissingClientData"
    # The client is leaving either way, so the status already says so.
    assert store.get_case(CASE_ID).status == CaseStatus.OFFBOARDING  # type: ignore[union-attr]


def test_a_timed_out_case_stays_timeout_and_says_no_outcome(store: CaseStore, deps: Deps) -> None:
    # Given a case that EscalateMissingOutcome marked as a timeout, with only the CRM's reason
    case = demo_case(cancellation_reason="Budget moved to a new clinic.")
    case = case.model_copy(
        update={
            "status": CaseStatus.OFFBOARDING,
            "offboarding_reason": "timeout",
            "reasons": ExitReasons(comments=["Budget moved to a new clinic."], sources=["crm"]),
        }
    )
    open_case(store, case)

    # When the reasons are documented
    run("DocumentCancellationReasons", document_cancellation_reasons.run, store, deps)

    # Then the timeout is kept, and the notes say no reason code and no meeting outcome
    assert store.get_case(CASE_ID).offboarding_reason == "timeout"  # type: ignore[union-attr]
    text = block_texts(deps.slack.posts[0]["blocks"])
    assert "• none given" in text
    assert ">Budget moved to a new clinic." in text
    assert "No meeting outcome recorded" in text


# -- 11. ConfirmClosure -----------------------------------------------------------------------


def test_closure_confirmation_carries_the_recorded_facts_once(store: CaseStore, deps: Deps) -> None:
    # Given the parallel offboarding branches recorded billing, refund and access facts
    open_case(store, cancelled(demo_case()))
    record_step(
        store,
        CASE_ID,
        "CompleteBillingRequest",
        "Billing ends",
        {"billing_stops_after": "2027-01-31", "subscriptions": []},
    )
    record_step(
        store,
        CASE_ID,
        "ProcessRefund",
        "Refunded",
        {"refund_amount": "1234.50", "currency": "usd", "status": "refunded", "refunds": ["re_1"]},
    )
    record_step(
        store,
        CASE_ID,
        "DeactivateToplineAccess",
        "Access removed",
        {"topline_account_id": "tl_acme_001", "deactivated_at": "2026-12-01T16:30:00+00:00"},
    )

    # When ConfirmClosure runs twice
    run("ConfirmClosure", confirm_closure.run, store, deps)
    run("ConfirmClosure", confirm_closure.run, store, deps)

    # Then the client got one email with every fact, replying to their account manager
    assert len(deps.mailer.sent) == 1
    sent = deps.mailer.sent[0]
    assert sent["to"] == ["dana@acme-dental.example"]
    assert sent["reply_to"] == "priya@topline-agency.example"
    text = sent["rendered"].text
    assert sent["rendered"].subject == "Your Topline account is closed: Acme Dental Group"
    assert "SEO retainer, Paid social management, Topline dashboard access" in text
    assert "Effective end date: Thursday, 31 December 2026" in text
    assert "stops after Sunday, 31 January 2027" in text
    assert "Refund: $1,234.50, back to your original payment method by Saturday, 12 December 2026" in text
    assert "ends Tuesday, 1 December 2026" in text
    assert "paused on Wednesday, 2 December 2026" in text
    assert details(store, "ConfirmClosure") == {
        "ses_message_id": "ses-1",
        "effective_end_date": "2026-12-31",
        "billing_stops_after": "2027-01-31",
        "refund_amount": "1234.50",
        "topline_access_ends_on": "2026-12-01",
    }


def test_closure_confirmation_without_upstream_details_uses_safe_fallbacks(store: CaseStore, deps: Deps) -> None:
    # Given none of the billing, refund or access steps recorded anything (skipped by ops)
    open_case(store, cancelled(demo_case()))

    # When ConfirmClosure runs
    output = run("ConfirmClosure", confirm_closure.run, store, deps)

    # Then it still confirms: billing stops at the contractual end, no refund, access and ads end today
    text = deps.mailer.sent[0]["rendered"].text
    assert "stops after Thursday, 31 December 2026" in text
    assert "Refund: none due" in text
    assert "ends Wednesday, 2 December 2026" in text
    assert output["summary"] == "Closure confirmed to the client: billing stops after 31 Dec 2026, no refund"


def test_closure_confirmation_ignores_a_rejected_refund_and_a_missing_review(store: CaseStore, deps: Deps) -> None:
    # Given a rejected refund, a malformed billing date and no contract review at all
    open_case(store, cancelled(demo_case()).model_copy(update={"contract_review": None}))
    record_step(store, CASE_ID, "CompleteBillingRequest", "Billing", {"billing_stops_after": "not a date"})
    record_step(
        store,
        CASE_ID,
        "ProcessRefund",
        "Rejected",
        {"refund_amount": "500.00", "currency": "USD", "status": "rejected"},
    )

    # When ConfirmClosure runs
    run("ConfirmClosure", confirm_closure.run, store, deps)

    # Then no refund is promised and every date falls back to today
    text = deps.mailer.sent[0]["rendered"].text
    assert "Refund: none due" in text
    assert "Effective end date: Wednesday, 2 December 2026" in text
    assert "stops after Wednesday, 2 December 2026" in text


# -- 13. SendThankYouNote ---------------------------------------------------------------------


def test_thank_you_is_personal_and_no_card_when_mailfold_is_off(store: CaseStore, deps: Deps) -> None:
    # Given Mailfold is turned off
    open_case(store, cancelled(demo_case()))

    # When the thank-you step runs
    output = run("SendThankYouNote", send_thank_you_note.run, store, deps)

    # Then one warm email from the account manager (reply-to), aware of the five months together
    sent = deps.mailer.sent[0]
    assert sent["reply_to"] == "priya@topline-agency.example"
    assert sent["rendered"].subject == "Thank you, Dana"
    assert "After 5 months together, I wanted to say a personal thank you." in sent["rendered"].text
    assert deps.mailfold.orders == []
    assert details(store, "SendThankYouNote") == {
        "ses_message_id": "ses-1",
        "card_order_id": None,
        "card": "not sent: Mailfold is turned off",
    }
    assert output["summary"].endswith("handwritten card not sent: Mailfold is turned off")


def test_card_is_skipped_without_a_mailing_address(store: CaseStore) -> None:
    # Given Mailfold is on but the CRM has no mailing address
    deps = Deps.with_fakes(settings=settings(mailfold_enabled=True))
    open_case(store, cancelled(demo_case(mailing_address=None)))

    # When the thank-you step runs
    output = run("SendThankYouNote", send_thank_you_note.run, store, deps)

    # Then the email still goes, the card is skipped, and both the details and summary say so
    assert len(deps.mailer.sent) == 1
    assert deps.mailfold.orders == []
    assert details(store, "SendThankYouNote")["card"] == "skipped: no mailing address on file"
    assert details(store, "SendThankYouNote")["card_order_id"] is None
    assert "skipped: no mailing address on file" in output["summary"]


def test_card_is_ordered_once_with_an_address_even_on_a_forced_rerun(store: CaseStore) -> None:
    # Given Mailfold is on and the client's postal address is on file
    deps = Deps.with_fakes(settings=settings(mailfold_enabled=True))
    open_case(store, cancelled(demo_case()))

    # When the step runs, replays, and is then forced to run again by ops
    run("SendThankYouNote", send_thank_you_note.run, store, deps)
    run("SendThankYouNote", send_thank_you_note.run, store, deps)
    run("SendThankYouNote", send_thank_you_note.run, store, deps, rerun=["SendThankYouNote"], force=True)

    # Then Mailfold holds one card (found by its reference), addressed from the CRM's address
    assert len(deps.mailfold.orders) == 1
    order = deps.mailfold.orders[0]
    assert order["order"].reference == f"{CASE_ID}-thank-you"
    recipient = order["recipient"]
    assert (recipient.name, recipient.address_line1, recipient.address_line2) == (
        "Dana Whitfield",
        "100 Harbor St",
        "Suite 4",
    )
    assert (recipient.city, recipient.state, recipient.postal_code, recipient.country) == (
        "Portland",
        "OR",
        "97201",
        "US",
    )
    assert order["message"].startswith("Dana, thank you for 5 months together.")
    assert len(order["message"]) <= 500
    assert details(store, "SendThankYouNote")["card_order_id"] == "ord_1"
    assert details(store, "SendThankYouNote")["card"] == "ordered"


def test_a_failed_card_order_does_not_resend_the_email(store: CaseStore) -> None:
    # Given Mailfold refuses the first order after the email went out
    deps = Deps.with_fakes(settings=settings(mailfold_enabled=True))
    open_case(store, cancelled(demo_case()))
    deps.mailfold.fail_next = VendorError("mailfold: 503")
    with pytest.raises(VendorError):
        run("SendThankYouNote", send_thank_you_note.run, store, deps)

    # When the step is retried with Mailfold back
    run("SendThankYouNote", send_thank_you_note.run, store, deps)

    # Then the client has one email and one card
    assert len(deps.mailer.sent) == 1
    assert len(deps.mailfold.orders) == 1


def test_card_through_the_mailfold_stand_in_is_ordered_once(store: CaseStore) -> None:
    with serve() as (base_url, app):
        # Given the real Mailfold client, talking to the stand-in's assumed contract
        agency = CardAddress(
            name="Priya Natarajan",
            company="Topline",
            address_line1="1 Main St",
            city="Austin",
            state="TX",
            postal_code="78701",
        )
        mailfold = MailfoldClient(
            f"{base_url}/mailfold", mailfold_stand_in.API_KEY, mailfold_stand_in.TEMPLATE_ID, agency
        )
        deps = Deps.with_fakes(settings=settings(mailfold_enabled=True), mailfold=mailfold)
        open_case(store, cancelled(demo_case()))

        # When the step runs and ops force it to run again
        run("SendThankYouNote", send_thank_you_note.run, store, deps)
        run("SendThankYouNote", send_thank_you_note.run, store, deps, rerun=["SendThankYouNote"], force=True)

        # Then the stand-in accepted the address as mapped from the CRM, and holds exactly one card
        orders = list(app.extensions["vendors"]["mailfold"].orders.values())
        assert len(orders) == 1
        assert orders[0]["reference"] == f"{CASE_ID}-thank-you"
        assert orders[0]["recipient"]["state"] == "OR" and orders[0]["recipient"]["address_line2"] == "Suite 4"
        assert details(store, "SendThankYouNote")["card_order_id"] == orders[0]["id"]


# -- 12. AnalyseFeedback ----------------------------------------------------------------------


def test_owner_review_states_the_facts_and_what_to_improve(store: CaseStore, deps: Deps) -> None:
    # Given a cancelled case whose earlier steps are in the case's log
    open_case(store, cancelled(demo_case()))
    record_step(store, CASE_ID, "AcknowledgeCancellationRequest", "Acknowledgement emailed to the client", {})
    record_step(store, CASE_ID, "ConfirmClosure", "Closure confirmed to the client", {})

    # When the feedback is analysed
    run("AnalyseFeedback", analyse_feedback.run, store, deps)

    # Then Joey gets the review by email with MRR lost, tenure, contract, reasons, offers, timeline, improvements
    sent = deps.mailer.sent[0]
    assert sent["to"] == ["joey@topline-agency.example"]
    review = sent["rendered"]
    assert review.subject == "Cancellation review: Acme Dental Group ($4,000.00 MRR)"
    assert "MRR lost:             $4,000.00" in review.text
    assert "Tenure:               5 months" in review.text
    assert "Minimum term:         6 months, still inside it" in review.text
    assert "Remaining obligation: $4,000.00" in review.text
    assert "- Not seeing results" in review.text
    assert "- Taking marketing in-house" in review.text
    assert '"Reports were hard for our partners to read."' in review.text
    assert "- Offered: 15% off for 3 months" in review.text
    assert "Answer:  Declined at the save meeting" in review.text
    assert "- Offered: Pause for up to 2 months" in review.text
    assert "AcknowledgeCancellationRequest: Acknowledgement emailed to the client" in review.text
    assert "Case: Cancel requested in the CRM" in review.text
    assert f"- {analyse_feedback.IMPROVEMENT_BY_REASON['results']}" in review.text
    assert f"- {analyse_feedback.IMPROVEMENT_BY_REASON['in_house']}" in review.text

    # And a compact summary in the ops channel that mentions him
    post = deps.slack.posts[0]
    assert post["channel"] == "C0OPS00001"
    text = block_texts(post["blocks"])
    assert text.startswith("<@U0JOEY0001> *Acme Dental Group* cancelled after 5 month(s): *$4,000.00* MRR lost.")
    assert "Not seeing results, Taking marketing in-house" in text

    recorded = details(store, "AnalyseFeedback")
    assert recorded["mrr_lost"] == "4000.00"
    assert recorded["tenure_months"] == 5
    assert recorded["reason_codes"] == ["results", "in_house"]
    assert recorded["improvements"] == [
        analyse_feedback.IMPROVEMENT_BY_REASON["results"],
        analyse_feedback.IMPROVEMENT_BY_REASON["in_house"],
    ]
    assert recorded["ses_message_id"] == "ses-1"
    assert recorded["slack"] == {"channel": "C0OPS00001", "ts": "1764000000.000001"}


def test_owner_review_without_meeting_or_reasons_still_suggests_improvements(store: CaseStore, deps: Deps) -> None:
    # Given a case that timed out with no reasons at all and a month-to-month contract started recently
    case = demo_case(reason_codes=[], contract_start=date(2026, 11, 1), term_months=None).model_copy(
        update={"offboarding_reason": "timeout", "contract_review": None}
    )
    open_case(store, case)

    # When the feedback is analysed, twice
    run("AnalyseFeedback", analyse_feedback.run, store, deps)
    run("AnalyseFeedback", analyse_feedback.run, store, deps)

    # Then one email and one post, with the "no meeting", "no reason" and onboarding points
    assert len(deps.mailer.sent) == 1 and len(deps.slack.posts) == 1
    text = deps.mailer.sent[0]["rendered"].text
    assert "(no reason recorded)" in text
    assert "No save offer was made" in text
    assert "Tenure:               1 month\n" in text
    assert details(store, "AnalyseFeedback")["improvements"] == [
        analyse_feedback.NO_REASON,
        analyse_feedback.NO_MEETING,
        "Look at onboarding: the client asked to leave after 1 month(s)",
    ]


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2026, 7, 1), date(2026, 12, 2), 5),
        (date(2026, 7, 15), date(2026, 8, 14), 0),
        (date(2026, 7, 15), date(2026, 8, 15), 1),
        (date(2026, 1, 31), date(2026, 2, 28), 0),  # a clamped month end is not yet a full month
        (date(2027, 1, 1), date(2026, 12, 2), 0),  # a contract starting later has no tenure yet
    ],
)
def test_tenure_counts_whole_months(start: date, end: date, months: int) -> None:
    assert common.months_between(start, end) == months


# -- 14. ScheduleTeamDebrief ------------------------------------------------------------------


def test_debrief_invites_the_coordinator_and_files_one_task(store: CaseStore, deps: Deps) -> None:
    # Given the owner review recorded its improvement points
    open_case(store, cancelled(demo_case()))
    points = ["Review reporting cadence in month 2", "Offer an advisory plan to clients hiring in-house"]
    record_step(store, CASE_ID, "AnalyseFeedback", "Review sent", {"improvements": points})

    # When the debrief is scheduled, twice
    before = datetime.now(UTC)
    run("ScheduleTeamDebrief", schedule_team_debrief.run, store, deps)
    run("ScheduleTeamDebrief", schedule_team_debrief.run, store, deps)

    # Then one email to the coordinator with the AM in cc, carrying an .ics for both
    assert len(deps.mailer.sent) == 1
    sent = deps.mailer.sent[0]
    assert sent["to"] == ["sam.rivera@topline-agency.example"]
    assert sent["cc"] == ["priya@topline-agency.example"]
    assert "Hi Sam and Priya," in sent["rendered"].text
    assert "- Review reporting cadence in month 2" in sent["rendered"].text
    (invite,) = sent["attachments"]
    assert invite.mime_type == "text/calendar; method=REQUEST"
    assert "METHOD:REQUEST" in invite.content
    assert "mailto:sam.rivera@topline-agency.example" in invite.content
    assert "ATTENDEE;CN=Priya Natarajan" in invite.content

    # And the slot is three business days out, at 15:00 UTC, on a weekday
    recorded = details(store, "ScheduleTeamDebrief")
    start = datetime.fromisoformat(recorded["proposed_start"])
    assert start.weekday() < 5 and start.hour == 15 and start.tzinfo is not None
    assert timedelta(days=3) <= start - before <= timedelta(days=6)
    assert f"DTSTART:{start:%Y%m%dT%H%M%S}Z" in invite.content

    # And one ClickUp task in the debrief list, tagged for the case, due that day, listing the points
    (task,) = deps.clickup.created
    assert task["list_id"] == "901200888"
    assert f"savedesk-{CASE_ID}-debrief".lower() in task["tags"]
    assert task["due_date"] == start.date()
    assert "- Offer an advisory plan to clients hiring in-house" in task["markdown"]
    assert recorded == {
        "proposed_start": start.isoformat(),
        "ses_message_id": "ses-1",
        "clickup_task_id": "t0001",
        "learning_points_from": "AnalyseFeedback",
    }


def test_debrief_reuses_a_tagged_task_and_falls_back_to_the_reasons(store: CaseStore, deps: Deps) -> None:
    # Given no owner review was recorded, and an earlier attempt already created the ClickUp task
    open_case(store, cancelled(demo_case()))
    deps.clickup.create_task("901200888", "Debrief", "", tags=[f"savedesk-{CASE_ID}-debrief"])

    # When the debrief is scheduled
    run("ScheduleTeamDebrief", schedule_team_debrief.run, store, deps)

    # Then the existing task is reused and the reasons are the agenda
    assert len(deps.clickup.created) == 1
    assert details(store, "ScheduleTeamDebrief")["clickup_task_id"] == "t0001"
    assert details(store, "ScheduleTeamDebrief")["learning_points_from"] == "reasons"
    assert "- Why they left: Not seeing results" in deps.mailer.sent[0]["rendered"].text


def test_a_retried_debrief_keeps_its_slot_and_sends_one_email(store: CaseStore, deps: Deps) -> None:
    # Given ClickUp fails after the invitation went out
    open_case(store, cancelled(demo_case()))
    deps.clickup.fail_next = VendorError("clickup: 500")
    with pytest.raises(VendorError):
        run("ScheduleTeamDebrief", schedule_team_debrief.run, store, deps)
    invite = deps.mailer.sent[0]["attachments"][0].content

    # When the step is retried
    run("ScheduleTeamDebrief", schedule_team_debrief.run, store, deps)

    # Then the one email stands and the task is due on the day the invitation named
    assert len(deps.mailer.sent) == 1
    start = datetime.fromisoformat(details(store, "ScheduleTeamDebrief")["proposed_start"])
    assert f"DTSTART:{start:%Y%m%dT%H%M%S}Z" in invite
    assert deps.clickup.created[0]["due_date"] == start.date()


def test_coordinator_name_comes_from_the_address() -> None:
    assert schedule_team_debrief.coordinator_name("sam.rivera@topline-agency.example") == "Sam Rivera"
    assert schedule_team_debrief.coordinator_name("coordinator@topline-agency.example") == "Coordinator"


# -- every step: one line of summary, no client PII --------------------------------------------


STEPS: list[tuple[str, Any]] = [
    ("DocumentCancellationReasons", document_cancellation_reasons.run),
    ("ConfirmClosure", confirm_closure.run),
    ("SendThankYouNote", send_thank_you_note.run),
    ("AnalyseFeedback", analyse_feedback.run),
    ("ScheduleTeamDebrief", schedule_team_debrief.run),
]


@pytest.mark.parametrize(("step", "action"), STEPS)
def test_summaries_are_one_line_without_client_details(store: CaseStore, deps: Deps, step: str, action: Any) -> None:
    # Given the demo client's case
    open_case(store, cancelled(demo_case()))

    # When the step runs
    output = run(step, action, store, deps)

    # Then its summary is one line naming neither the client, the contact nor their addresses
    summary = output["summary"]
    assert summary and "\n" not in summary
    for pii in ("Acme", "Dana", "Whitfield", "acme-dental.example", "Harbor", "Priya"):
        assert pii not in summary

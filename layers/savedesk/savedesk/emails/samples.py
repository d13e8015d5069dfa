"""A sample context for every template, with the demo client's values (docs/demo-client.md).

Used by the unit tests, the screenshot test and the email preview command, so what reviewers
look at is what the tests check.
"""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from savedesk.emails.contexts import (
    AcknowledgementContext,
    Amount,
    ClosureConfirmationContext,
    ContractPosition,
    DigestPeriod,
    EscalationContext,
    GladYoureStayingContext,
    MeetingInvitationContext,
    OpenInvoice,
    OwnerReviewContext,
    PaymentReminderContext,
    ReasonTally,
    SaveOffer,
    TeamDebriefContext,
    ThankYouContext,
    TimelineEntry,
    WaitingCase,
    WeeklyDigestContext,
)

EASTERN = ZoneInfo("America/New_York")

CASE_ID = "case-ACME-001-20261124"
COMMON = {
    "case_id": CASE_ID,
    "company": "Acme Dental Group",
    "account_manager_name": "Priya Natarajan",
    "account_manager_email": "priya@topline-agency.example",
}
CLIENT = {**COMMON, "contact_first_name": "Dana"}
SURVEY_URL = f"https://topline.typeform.com/to/ExitSurv#case_id={CASE_ID}"
BOOKING_URL = "https://calendly.com/priya-topline/final-30"
INVOICE_URL = "https://invoice.stripe.com/i/acct_1Topline/test_YWNtZV9vcGVu"
# 10:00 AM in New York is 15:00 UTC: the same instant as the sample .ics's DTSTART.
MEETING_START = datetime(2026, 12, 1, 10, 0, tzinfo=EASTERN)


def samples() -> dict[str, BaseModel]:
    """Template name -> a context for it; a new dict each call, so callers may not share state."""
    return {
        "acknowledgement": AcknowledgementContext(
            **CLIENT,
            requested_on=date(2026, 11, 24),
            personal_note=(
                "Dana, I'm sorry to see you go. Working on Acme's spring whitening campaign was a highlight "
                "of my year.\n\nWhatever you decide, I'll make sure the handover is smooth."
            ),
            survey_url=SURVEY_URL,
        ),
        "meeting_invitation": MeetingInvitationContext(**CLIENT, booking_url=BOOKING_URL, proposed_start=MEETING_START),
        "glad_youre_staying": GladYoureStayingContext(
            **CLIENT,
            offer_title="Two months at 25% off, then a lighter SEO-only plan",
            offer_detail=(
                "December and January are billed at $3,000.00 instead of $4,000.00.\n"
                "From February you move to the SEO retainer only, at $2,500.00 a month."
            ),
            next_steps=[
                "Priya sends the updated agreement by Friday, 4 December.",
                "Paid social campaigns are handed back to your team on 31 January.",
                "A quarterly review is booked for March.",
            ],
        ),
        "payment_reminder": PaymentReminderContext(
            **CLIENT,
            currency="USD",
            invoices=[
                OpenInvoice(
                    number="TL-2026-0142",
                    amount_remaining=Decimal("1200.00"),
                    currency="USD",
                    due_date=date(2026, 12, 15),
                    hosted_invoice_url=INVOICE_URL,
                )
            ],
        ),
        "closure_confirmation": ClosureConfirmationContext(
            **CLIENT,
            services=["SEO retainer", "Paid social"],
            effective_end_date=date(2026, 12, 31),
            billing_stops_after=date(2026, 12, 31),
            refund_amount=Decimal("4000.00"),
            refund_expected_by=date(2026, 12, 14),
            currency="USD",
            topline_access_ends_on=date(2026, 12, 31),
            ads_paused_on=date(2026, 12, 2),
        ),
        "thank_you": ThankYouContext(
            **CLIENT,
            personal_message=(
                "Thank you for the months we worked together. Your team's trust, and your patience while "
                "we rebuilt the local SEO pages, meant a lot to all of us.\n\n"
                "If I can ever help, even with a quick question, my inbox is open."
            ),
        ),
        "owner_review": OwnerReviewContext(
            **COMMON,
            recipient_first_name="Joey",
            tenure_months=4,
            mrr_lost=Decimal("4000.00"),
            currency="USD",
            contract=ContractPosition(
                inside_minimum_term=True,
                minimum_term_months=6,
                commitment_end=date(2026, 12, 31),
                remaining_obligation=Decimal("4000.00"),
                currency="USD",
            ),
            reason_categories=["Budget cuts", "Bringing marketing in-house"],
            reason_quotes=[
                "We hired a marketing coordinator and want to try running paid social ourselves.",
                "Results were good, but the reporting was hard for our partners to read.",
            ],
            offers=[
                SaveOffer(
                    title="Two months at 25% off, then SEO only",
                    answer="Declined: the budget decision was already made by the partners.",
                )
            ],
            timeline=[
                TimelineEntry(
                    at=datetime(2026, 11, 24, 9, 5, tzinfo=EASTERN),
                    step="AcknowledgeCancellationRequest",
                    what="Cancel clicked in HubSpot; acknowledgement sent.",
                ),
                TimelineEntry(
                    at=datetime(2026, 11, 24, 9, 6, tzinfo=EASTERN),
                    step="ScheduleSaveMeeting",
                    what="Invitation sent for 1 Dec; brief posted to Priya.",
                ),
                TimelineEntry(
                    at=datetime(2026, 12, 1, 10, 40, tzinfo=EASTERN),
                    step="WaitForMeetingOutcome",
                    what="Outcome recorded: cancel.",
                ),
                TimelineEntry(
                    at=datetime(2026, 12, 2, 9, 15, tzinfo=EASTERN),
                    step="ConfirmClosure",
                    what="Billing completed, access removed, projects closed, ads paused.",
                ),
            ],
            improvements=[
                "Send partner-friendly monthly reports (one page, plain language).",
                "Offer a hand-over plan when a client hires in-house marketing.",
            ],
        ),
        "escalation": EscalationContext(
            **COMMON,
            recipient_first_name="Joey",
            outcome_due_at=datetime(2026, 12, 3, 17, 0, tzinfo=EASTERN),
            meeting_start=MEETING_START,
            case_url="https://console.aws.amazon.com/states/home#/v2/executions/details/case-ACME-001-20261124",
        ),
        "team_debrief": TeamDebriefContext(
            **COMMON,
            coordinator_name="Sam Rivera",
            learning_points=[
                "Reports were too detailed for the client's partners.",
                "We learned about the in-house hire only when they cancelled.",
                "The save offer came after the budget decision was made.",
            ],
            proposed_start=datetime(2026, 12, 8, 11, 0, tzinfo=EASTERN),
        ),
        "weekly_digest": WeeklyDigestContext(
            recipient_first_name="Joey",
            week="2026-W49",
            last_7_days=DigestPeriod(
                label="23 Nov – 29 Nov 2026",
                opened=3,
                saved=1,
                cancelled=2,
                save_rate_percent=33,
                mrr_saved=[Amount(amount=Decimal("3400.00"), currency="USD")],
                mrr_lost=[
                    Amount(amount=Decimal("6500.00"), currency="USD"),
                    Amount(amount=Decimal("1800.00"), currency="EUR"),
                ],
                reasons=[
                    ReasonTally(label="Not seeing results", count=2),
                    ReasonTally(label="Budget cut", count=1),
                ],
            ),
            month_to_date=DigestPeriod(
                label="November 2026 to date",
                opened=9,
                saved=4,
                cancelled=3,
                save_rate_percent=57,
                mrr_saved=[Amount(amount=Decimal("12900.00"), currency="USD")],
                mrr_lost=[
                    Amount(amount=Decimal("9100.00"), currency="USD"),
                    Amount(amount=Decimal("1800.00"), currency="EUR"),
                ],
                reasons=[
                    ReasonTally(label="Not seeing results", count=4),
                    ReasonTally(label="Too expensive", count=3),
                    ReasonTally(label="Taking marketing in-house", count=1),
                ],
            ),
            waiting=[
                WaitingCase(
                    case_id=CASE_ID,
                    company=COMMON["company"],
                    account_manager_name=COMMON["account_manager_name"],
                    opened_on=date(2026, 11, 24),
                    waiting_days=6,
                )
            ],
        ),
    }

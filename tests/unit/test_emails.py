"""Every email renders, reads right in both parts, and cannot be bent by what the client typed."""

import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import jinja2
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from savedesk.emails import (
    TEMPLATES,
    AcknowledgementContext,
    ClosureConfirmationContext,
    EscalationContext,
    OpenInvoice,
    OwnerReviewContext,
    PaymentReminderContext,
    RenderedEmail,
    ThankYouContext,
    render_email,
)
from savedesk.emails.render import day, environment, money, paragraphs, short_day, time
from savedesk.emails.samples import BOOKING_URL, CASE_ID, INVOICE_URL, SURVEY_URL, samples

HOSTILE = '<script>alert("x")</script> & Co'


def rendered(template: str, **changes: object) -> RenderedEmail:
    context = samples()[template]
    if changes:
        # Validate again so the change goes through the same checks a caller's would.
        context = type(context).model_validate(
            {**context.model_dump(exclude=set(type(context).model_computed_fields)), **changes}
        )
    return render_email(template, context)


# --- every template ---------------------------------------------------------------------------


def test_the_samples_cover_every_template() -> None:
    assert set(samples()) == set(TEMPLATES)
    assert set(TEMPLATES) == {
        "acknowledgement",
        "meeting_invitation",
        "glad_youre_staying",
        "payment_reminder",
        "closure_confirmation",
        "thank_you",
        "owner_review",
        "escalation",
        "team_debrief",
        "weekly_digest",
    }


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_renders_html_and_text(template: str) -> None:
    email = rendered(template)
    assert email.template == template
    assert email.subject and "\n" not in email.subject and "\r" not in email.subject
    assert email.html.startswith("<!DOCTYPE html>")
    assert f"<title>{email.subject}</title>" in email.html
    assert "Acme Dental Group" in email.html or "Dana" in email.html
    # The text part is written, not stripped HTML.
    assert "<" not in email.text.replace("<priya@topline-agency.example>", "")
    assert "&amp;" not in email.text and "&nbsp;" not in email.text
    assert email.text.strip()
    assert "\n\n\n" not in email.text, "stray blank lines from template tags"
    if template != "thank_you":  # a personal note carries no reference number
        assert CASE_ID in email.html and CASE_ID in email.text


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_css_is_inlined_so_clients_that_strip_style_still_render(template: str) -> None:
    html = rendered(template).html
    assert "<style" not in html
    assert 'class="' in html  # classes stay; harmless, and handy when debugging
    assert re.search(r'<body style="[^"]*background-color', html)
    assert re.search(r'<td class="content" style="[^"]*font-family: Arial', html)
    assert re.search(r'<p style="[^"]*margin', html)
    assert re.search(r'<div class="preheader" style="display: none;', html)
    assert re.search(r'<td class="header" bgcolor="#16325c" style="background-color: #16325c', html)
    # Layout is tables, fixed to 600px for Outlook; nothing Outlook cannot lay out.
    assert "max-width: 600px" in html and '<table role="presentation" width="600"' in html
    assert "display: flex" not in html and "display: grid" not in html


@pytest.mark.parametrize(
    ("template", "button_url"),
    [
        ("acknowledgement", SURVEY_URL),
        ("meeting_invitation", BOOKING_URL),
        ("payment_reminder", INVOICE_URL),
        ("closure_confirmation", "mailto:priya@topline-agency.example"),
    ],
)
def test_call_to_action_button_is_styled_inline(template: str, button_url: str) -> None:
    html = rendered(template).html
    match = re.search(r'<a class="button-link"[^>]*href="([^"]+)"[^>]*style="([^"]+)"', html)
    assert match, "no button"
    assert match.group(1) == button_url
    assert "color: #ffffff" in match.group(2) and "text-decoration: none" in match.group(2)
    assert 'class="button-cell" align="center" bgcolor="#c8491a" style="background-color: #c8491a' in html


# --- the facts each email must carry ----------------------------------------------------------

KEY_FACTS = {
    "acknowledgement": ["Hi Dana,", "Tuesday, 24 November 2026", SURVEY_URL, "30 minutes", "Priya Natarajan"],
    "meeting_invitation": ["Tuesday, 1 December 2026, 10:00 AM ET", "30 minutes", BOOKING_URL, "attached"],
    "glad_youre_staying": [
        "Two months at 25% off, then a lighter SEO-only plan",
        "$3,000.00 instead of $4,000.00",
        "1. Priya sends the updated agreement",
        "3. A quarterly review is booked for March.",
    ],
    "payment_reminder": ["TL-2026-0142", "$1,200.00", "15 Dec 2026", INVOICE_URL, "Total due: $1,200.00"],
    "closure_confirmation": [
        "SEO retainer, Paid social",
        "Effective end date: Thursday, 31 December 2026",
        "stops after Thursday, 31 December 2026",
        "Refund: $4,000.00, back to your original payment method by Monday, 14 December 2026",
        "Access to Topline: ends Thursday, 31 December 2026",
        "paused on Wednesday, 2 December 2026",
        "priya@topline-agency.example",
    ],
    "thank_you": ["Hi Dana,", "rebuilt the local SEO pages", "Warmly,\nPriya"],
    "owner_review": [
        "Hi Joey",
        "4 months",
        "MRR lost:             $4,000.00",
        "6 months, still inside it",
        "Thursday, 31 December 2026",
        "Remaining obligation: $4,000.00",
        "- Budget cuts",
        '"We hired a marketing coordinator',
        "Offered: Two months at 25% off, then SEO only",
        "Declined: the budget decision",
        "24 Nov 2026 9:05 AM ET  AcknowledgeCancellationRequest",
        "- Send partner-friendly monthly reports",
    ],
    "escalation": [
        "Hi Joey",
        "Priya Natarajan <priya@topline-agency.example>",
        "Thursday, 3 December 2026, 5:00 PM ET",
        "continues as a cancellation",
        CASE_ID,
    ],
    "team_debrief": [
        "Hi Sam and Priya,",
        "- Reports were too detailed",
        "Tuesday, 8 December 2026, 11:00 AM ET",
        "Sam Rivera, Priya Natarajan",
    ],
}


@pytest.mark.parametrize("template", sorted(KEY_FACTS))
def test_text_part_carries_the_key_facts(template: str) -> None:
    text = rendered(template).text
    for fact in KEY_FACTS[template]:
        assert fact in text, f"{fact!r} missing from the {template} text part"


HTML_FACTS = {
    "acknowledgement": ["Tuesday, 24 November 2026", f'href="{SURVEY_URL}"'],
    "meeting_invitation": ["Tuesday, 1 December 2026, 10:00 AM ET", f'href="{BOOKING_URL}"'],
    "glad_youre_staying": [
        "Two months at 25% off, then a lighter SEO-only plan",
        "A quarterly review is booked for March.",
    ],
    "payment_reminder": ["TL-2026-0142", "$1,200.00", "15 Dec 2026", f'href="{INVOICE_URL}"'],
    "closure_confirmation": [
        "SEO retainer, Paid social",
        "$4,000.00, back to your original payment method by Monday, 14 December 2026",
        "Ends Thursday, 31 December 2026",
        "Paused on Wednesday, 2 December 2026",
    ],
    "thank_you": ["rebuilt the local SEO pages", "Priya"],
    "owner_review": ["$4,000.00", "6 months, still inside it", "Budget cuts", "AcknowledgeCancellationRequest"],
    "escalation": ["Thursday, 3 December 2026, 5:00 PM ET", "continues as a cancellation"],
    "team_debrief": ["Reports were too detailed", "Tuesday, 8 December 2026, 11:00 AM ET"],
}


@pytest.mark.parametrize("template", sorted(HTML_FACTS))
def test_html_part_carries_the_key_facts(template: str) -> None:
    html = rendered(template).html
    for fact in HTML_FACTS[template]:
        assert fact in html, f"{fact!r} missing from the {template} HTML part"


def test_subjects() -> None:
    subjects = {name: rendered(name).subject for name in TEMPLATES}
    assert subjects["acknowledgement"] == "We received your cancellation request, Dana"
    assert subjects["payment_reminder"] == "Acme Dental Group: 1 open invoice ($1,200.00)"
    assert subjects["owner_review"] == "Cancellation review: Acme Dental Group ($4,000.00 MRR)"
    assert subjects["team_debrief"] == "Debrief: Acme Dental Group cancellation, Tuesday, 8 December 2026"
    assert subjects["closure_confirmation"] == "Your Topline account is closed: Acme Dental Group"


# --- variants ----------------------------------------------------------------------------------


def test_closure_without_refund() -> None:
    email = rendered("closure_confirmation", refund_amount=None, refund_expected_by=None)
    assert "Refund: none due" in email.text
    assert "None due" in email.html
    assert "original payment method" not in email.text


def test_payment_reminder_totals_several_invoices() -> None:
    second = OpenInvoice(
        number="TL-2026-0150",
        amount_remaining=Decimal("345.67"),
        currency="USD",
        due_date=date(2027, 1, 15),
        hosted_invoice_url="https://invoice.stripe.com/i/acct_1Topline/test_second",
    )
    context = samples()["payment_reminder"]
    assert isinstance(context, PaymentReminderContext)
    email = render_email("payment_reminder", context.model_copy(update={"invoices": [*context.invoices, second]}))
    assert email.subject == "Acme Dental Group: 2 open invoices ($1,545.67)"
    assert "Total due: $1,545.67" in email.text
    assert "some invoices that are" in email.text
    assert "View and pay invoice" not in email.html  # one button per invoice would crowd the page


def test_escalation_without_a_booked_meeting_or_link() -> None:
    email = rendered("escalation", meeting_start=None, case_url=None)
    assert "never booked" in email.text
    assert "Never booked" in email.html
    assert "Open the case" not in email.text and "button-link" not in email.html


def test_owner_review_without_offers_or_reasons() -> None:
    email = rendered("owner_review", offers=[], reason_categories=[], reason_quotes=[], improvements=[])
    assert "No save offer was made" in email.text and "No save offer was made" in email.html
    assert "(no reason recorded)" in email.text and "In their words" not in email.text
    assert "(nothing noted yet)" in email.text


def test_eur_amounts() -> None:
    context = samples()["closure_confirmation"]
    email = render_email(
        "closure_confirmation", context.model_copy(update={"currency": "EUR", "refund_amount": Decimal("1234")})
    )
    assert "Refund: 1,234.00 EUR" in email.text


# --- hostile input -----------------------------------------------------------------------------


def test_html_escapes_what_the_client_typed() -> None:
    email = rendered(
        "acknowledgement",
        company=HOSTILE,
        contact_first_name="<b>Dana</b>",
        personal_note='Hello <img src=x onerror="alert(1)">\nbye',
    )
    assert "<script" not in email.html and "<img" not in email.html and "<b>" not in email.html
    assert "&lt;script&gt;" in email.html
    assert "&lt;img src=x onerror=" in email.html
    assert "<p>Hello &lt;img" in email.html.replace('<p style="margin: 0 0 8px 0;">', "<p>")
    # The text part is plain text: shown as typed, never entity-encoded.
    assert HOSTILE in email.text


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_hostile_company_is_escaped_in_every_template(template: str) -> None:
    if "company" not in type(samples()[template]).model_fields:
        pytest.skip("not about one company (weekly_digest: tests/unit/test_insights.py escapes its companies)")
    email = rendered(template, company=HOSTILE)
    assert "<script" not in email.html
    if template != "thank_you":  # the only email that does not name the company
        assert '&lt;script&gt;alert("x")&lt;/script&gt; &amp; Co' in email.html


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_subject_has_no_line_breaks_even_with_a_hostile_company(template: str) -> None:
    if "company" not in type(samples()[template]).model_fields:
        pytest.skip("no company in this subject")
    changes: dict[str, object] = {"company": "Acme\r\nBcc: victim@example.com\n"}
    if "contact_first_name" in type(samples()[template]).model_fields:
        changes["contact_first_name"] = "Dana\rX"
    email = rendered(template, **changes)
    assert "\r" not in email.subject and "\n" not in email.subject


def test_one_line_fields_collapse_line_breaks() -> None:
    context = samples()["acknowledgement"]
    assert isinstance(context, AcknowledgementContext)
    data = context.model_dump(exclude={"account_manager_first_name"})
    again = AcknowledgementContext.model_validate({**data, "company": "Acme\u2028Dental\r\n  Group"})
    assert again.company == "Acme Dental Group"


def test_subject_is_stripped_even_if_validation_was_bypassed() -> None:
    context = samples()["thank_you"]
    bypassed = ThankYouContext.model_construct(**{**dict(context), "contact_first_name": "Dana\r\nBcc: x@example.com"})
    assert render_email("thank_you", bypassed).subject == "Thank you, Dana Bcc: x@example.com"


@given(st.text(min_size=1, max_size=80).filter(lambda s: s.strip()))
def test_any_company_name_gives_a_one_line_subject(company: str) -> None:
    context = samples()["closure_confirmation"]
    assert isinstance(context, ClosureConfirmationContext)
    email = render_email("closure_confirmation", context.model_copy(update={"company": company}))
    assert not any(ch in email.subject for ch in "\r\n\u2028\u2029\x85\x0b\x0c")


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,hi", "ftp://example.com/x", "https://", "https://a b.com"]
)
def test_links_must_be_web_urls(url: str) -> None:
    with pytest.raises(ValidationError):
        rendered("acknowledgement", survey_url=url)


# --- strictness --------------------------------------------------------------------------------


def test_a_missing_field_is_an_error_not_a_blank() -> None:
    fields = dict(samples()["acknowledgement"])
    del fields["survey_url"]
    incomplete = AcknowledgementContext.model_construct(**fields)  # what a caller bypassing validation would send
    with pytest.raises(jinja2.UndefinedError, match="survey_url"):
        render_email("acknowledgement", incomplete)


def test_environment_is_strict_and_built_once() -> None:
    env = environment()
    assert env is environment()
    assert env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("thank_you.txt.j2").render({})


def test_the_model_refuses_a_missing_field() -> None:
    fields = dict(samples()["meeting_invitation"])
    del fields["booking_url"]
    with pytest.raises(ValidationError, match="booking_url"):
        type(samples()["meeting_invitation"]).model_validate(fields)


def test_wrong_context_type_or_unknown_template() -> None:
    with pytest.raises(TypeError, match="AcknowledgementContext"):
        render_email("acknowledgement", samples()["thank_you"])
    with pytest.raises(ValueError, match="unknown email template"):
        render_email("goodbye", samples()["thank_you"])


def test_rendered_email_is_frozen() -> None:
    email = rendered("thank_you")
    with pytest.raises(ValidationError):
        email.subject = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("template", "changes", "message"),
    [
        ("closure_confirmation", {"refund_expected_by": None}, "go together"),
        ("payment_reminder", {"currency": "EUR"}, "all invoices must be in EUR"),
        ("meeting_invitation", {"proposed_start": datetime(2026, 12, 1, 15, 0)}, "timezone"),
        ("owner_review", {"mrr_lost": Decimal("1.005")}, "decimal places"),
        ("acknowledgement", {"account_manager_email": "Priya <priya@x.example>"}, "plain email address"),
        ("acknowledgement", {"extra_field": 1}, "Extra inputs"),
    ],
)
def test_contexts_validate(template: str, changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        rendered(template, **changes)


# --- filters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("4000"), "USD", "$4,000.00"),
        (Decimal("1234"), "EUR", "1,234.00 EUR"),
        (Decimal("1234567.891"), "usd", "$1,234,567.89"),
        (Decimal("0.005"), "USD", "$0.01"),
        (Decimal("-50"), "USD", "-$50.00"),
        (Decimal("0"), "GBP", "0.00 GBP"),
    ],
)
def test_money(amount: Decimal, currency: str, expected: str) -> None:
    assert money(amount, currency) == expected


def test_money_refuses_floats() -> None:
    with pytest.raises(TypeError):
        money(0.1, "USD")  # type: ignore[arg-type]


def test_days() -> None:
    assert day(date(2026, 12, 1)) == "Tuesday, 1 December 2026"
    assert short_day(date(2026, 12, 1)) == "1 Dec 2026"
    # A datetime shows the calendar day where it happens, not in UTC.
    late = datetime(2026, 12, 1, 23, 30, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert day(late) == "Tuesday, 1 December 2026"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("America/New_York")), "10:00 AM ET"),
        (datetime(2026, 7, 1, 15, 0, tzinfo=ZoneInfo("America/New_York")), "3:00 PM ET"),  # EDT
        (datetime(2026, 7, 1, 12, 5, tzinfo=ZoneInfo("America/Los_Angeles")), "12:05 PM PT"),
        (datetime(2026, 12, 1, 0, 30, tzinfo=ZoneInfo("America/Chicago")), "12:30 AM CT"),
        (datetime(2026, 12, 1, 15, 0, tzinfo=UTC), "3:00 PM UTC"),
        (datetime(2026, 12, 1, 16, 0, tzinfo=ZoneInfo("Europe/Paris")), "4:00 PM CET"),
        (datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(hours=2))), "9:00 AM UTC+02:00"),
    ],
)
def test_time(value: datetime, expected: str) -> None:
    assert time(value) == expected


def test_time_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        time(datetime(2026, 12, 1, 15, 0))


def test_paragraphs_escapes_then_breaks() -> None:
    assert str(paragraphs("a <b>\nc\r\n\r\n\n d")) == "<p>a &lt;b&gt;<br>\nc</p>\n<p>d</p>"


# --- cost ----------------------------------------------------------------------------------------


def test_importing_the_emails_package_stays_light() -> None:
    code = (
        "import sys, savedesk.emails, savedesk.calendar_invite;"
        "heavy = {'boto3', 'botocore', 'httpx', 'stripe', 'slack_sdk', 'aws_lambda_powertools'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONPATH": "layers/savedesk"}
    )
    assert result.stdout.strip() == "[]"


def test_samples_are_fresh_each_call() -> None:
    assert samples()["owner_review"] is not samples()["owner_review"]
    assert all(isinstance(context, BaseModel) for context in samples().values())
    assert isinstance(samples()["owner_review"], OwnerReviewContext)
    assert isinstance(samples()["escalation"], EscalationContext)

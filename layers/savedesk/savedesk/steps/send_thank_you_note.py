"""13. A personal thank-you from the account manager; optionally a handwritten card (Mailfold).

The email is the required part. The card is a gesture: with Mailfold on and a mailing address
on file it is ordered once; without an address it is skipped and the step says so, rather
than failing the offboarding over a card.
"""

from __future__ import annotations

from savedesk.emails import ThankYouContext, render_email
from savedesk.integrations.mailfold import PostalAddress as CardAddress
from savedesk.models import Case
from savedesk.steps.common import client_email_basics, tenure_months, today
from savedesk.steps.runner import StepContext, StepOutcome


def together(months: int) -> str:
    if months < 1:
        return "our time together"
    return f"{months} month{'s' if months != 1 else ''} together"


def personal_message(case: Case, months: int, agency: str) -> str:
    company = case.account.company
    return (
        f"After {together(months)}, I wanted to say a personal thank you. Working with the {company} team "
        f"has been a real pleasure, and I'm grateful for the trust you put in {agency}.\n\n"
        "If there's ever anything I can help with, even a quick question about your campaigns or your data, "
        f"my inbox stays open. I wish you and everyone at {company} every success."
    )


def card_message(case: Case, months: int) -> str:
    account = case.account
    # A card's writable area is small (the assumed Mailfold limit is 500 characters): keep it short.
    return (
        f"{account.contact_first_name}, thank you for {together(months)}. It was a privilege to work with "
        f"the {account.company} team. Wishing you every success! {account.account_manager_first_name}"
    )[:500]


def card_address(case: Case) -> CardAddress | None:
    account = case.account
    address = account.mailing_address
    if address is None:
        return None
    return CardAddress(
        name=account.contact_name,
        company=account.company,
        address_line1=address.line1,
        address_line2=address.line2 or None,
        city=address.city,
        state=address.region or None,
        postal_code=address.postal_code,
        country=address.country,
    )


def run(ctx: StepContext) -> StepOutcome:
    case, settings, deps = ctx.case, ctx.deps.settings, ctx.deps
    account = case.account
    months = tenure_months(case, today())
    email = render_email(
        "thank_you",
        ThankYouContext(
            **client_email_basics(case, settings), personal_message=personal_message(case, months, settings.agency_name)
        ),
    )
    message_id = ctx.once(
        "email:thank_you",
        lambda: deps.mailer.send(
            [account.contact_email], email, case_id=case.case_id, reply_to=account.account_manager_email
        ),
    )

    order_id: str | None = None
    recipient = card_address(case)
    if not settings.mailfold_enabled:
        card = "not sent: Mailfold is turned off"
    elif recipient is None:
        card = "skipped: no mailing address on file"
    else:
        message = card_message(case, months)
        # Mailfold has no idempotency key: order_card_once looks the reference up before ordering,
        # and ctx.once keeps a recorded order from being looked up (or ordered) again.
        order_id = ctx.once(
            "mailfold:thank_you_card",
            lambda: deps.mailfold.order_card_once(recipient, message, f"{case.case_id}-thank-you").id,
        )
        card = "ordered"

    return StepOutcome(
        summary=f"Thank-you email sent from the account manager; handwritten card {card}",
        details={"ses_message_id": message_id, "card_order_id": order_id, "card": card},
    )

"""Every email SaveDesk sends: `render_email(template_name, context)` -> subject, HTML and text."""

from savedesk.emails.contexts import (
    AcknowledgementContext,
    ClosureConfirmationContext,
    ContractPosition,
    EscalationContext,
    GladYoureStayingContext,
    MeetingInvitationContext,
    OpenInvoice,
    OwnerReviewContext,
    PaymentReminderContext,
    SaveOffer,
    TeamDebriefContext,
    ThankYouContext,
    TimelineEntry,
)
from savedesk.emails.render import TEMPLATES, RenderedEmail, render_email

__all__ = [
    "TEMPLATES",
    "AcknowledgementContext",
    "ClosureConfirmationContext",
    "ContractPosition",
    "EscalationContext",
    "GladYoureStayingContext",
    "MeetingInvitationContext",
    "OpenInvoice",
    "OwnerReviewContext",
    "PaymentReminderContext",
    "RenderedEmail",
    "SaveOffer",
    "TeamDebriefContext",
    "ThankYouContext",
    "TimelineEntry",
    "render_email",
]

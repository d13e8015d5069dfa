"""Render an email (subject, HTML, text) from a template name and its typed context.

Each template is a pair in `templates/`: `<name>.html.j2` (extends `base.html.j2`, CSS in a
`<style>` block that is inlined here, because Gmail and Outlook drop or ignore `<style>`) and
`<name>.txt.j2` (written for reading, not stripped from the HTML). Subjects live in the
registry below, next to the context type, so one table shows every email SaveDesk sends.
"""

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import css_inline
import jinja2
from markupsafe import Markup, escape
from pydantic import BaseModel

from savedesk.contract_terms import format_date, format_money
from savedesk.emails.contexts import (
    AcknowledgementContext,
    ClosureConfirmationContext,
    EscalationContext,
    GladYoureStayingContext,
    MeetingInvitationContext,
    OwnerReviewContext,
    PaymentReminderContext,
    TeamDebriefContext,
    ThankYouContext,
    WeeklyDigestContext,
    one_line,
)

TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    context_type: type[BaseModel]
    subject: str  # a Jinja expression-template, rendered without HTML escaping


TEMPLATES: Mapping[str, TemplateSpec] = {
    "acknowledgement": TemplateSpec(
        AcknowledgementContext, "We received your cancellation request, {{ contact_first_name }}"
    ),
    "meeting_invitation": TemplateSpec(
        MeetingInvitationContext, "A final {{ duration_minutes }} minutes together? Let's wrap up properly"
    ),
    "glad_youre_staying": TemplateSpec(GladYoureStayingContext, "Glad you're staying, {{ contact_first_name }}"),
    "payment_reminder": TemplateSpec(
        PaymentReminderContext,
        "{{ company }}: {{ invoices | length }} open invoice{{ 's' if invoices | length != 1 }}"
        " ({{ total_due | money(currency) }})",
    ),
    "closure_confirmation": TemplateSpec(
        ClosureConfirmationContext, "Your {{ agency_name }} account is closed: {{ company }}"
    ),
    "thank_you": TemplateSpec(ThankYouContext, "Thank you, {{ contact_first_name }}"),
    "owner_review": TemplateSpec(
        OwnerReviewContext, "Cancellation review: {{ company }} ({{ mrr_lost | money(currency) }} MRR)"
    ),
    "escalation": TemplateSpec(
        EscalationContext, "[SaveDesk] No meeting outcome for {{ company }}: continuing as a cancellation"
    ),
    "team_debrief": TemplateSpec(TeamDebriefContext, "Debrief: {{ company }} cancellation, {{ proposed_start | day }}"),
    "weekly_digest": TemplateSpec(
        WeeklyDigestContext,
        "SaveDesk weekly ({{ week }}): {{ last_7_days.saved }} saved, {{ last_7_days.cancelled }} cancelled,"
        " {{ waiting | length }} waiting",
    ),
}


class RenderedEmail(BaseModel):
    model_config = {"frozen": True}

    template: str
    subject: str
    html: str
    text: str


# --- filters ---------------------------------------------------------------------------------

_CENTS = Decimal("0.01")
# Abbreviations people read as a zone rather than a season ("ET", not "EST"/"EDT").
_GENERIC_ZONES = {
    "EST": "ET",
    "EDT": "ET",
    "CST": "CT",
    "CDT": "CT",
    "MST": "MT",
    "MDT": "MT",
    "PST": "PT",
    "PDT": "PT",
}


def money(amount: Decimal, currency: str) -> str:
    """`$4,000.00` for USD, `1,234.00 EUR` for anything else (one formatter for the whole app)."""
    if not isinstance(amount, Decimal):
        # Floats would round invisibly; make the caller pass Decimal.
        raise TypeError(f"money expects a Decimal, got {type(amount).__name__}")
    return format_money(amount, currency)


def day(value: date) -> str:
    """`Tuesday, 1 December 2026` (a datetime is shown in its own time zone)."""
    return f"{value:%A}, {value.day} {value:%B %Y}"


def short_day(value: date) -> str:
    """`1 Dec 2026`."""
    return format_date(value)


def time(value: datetime) -> str:
    """`3:00 PM ET` from a timezone-aware datetime."""
    zone = value.tzname()
    if value.tzinfo is None or zone is None:
        raise ValueError("time needs a timezone-aware datetime; a naive one is ambiguous for the reader")
    hour = value.hour % 12 or 12
    return f"{hour}:{value:%M %p} {_GENERIC_ZONES.get(zone, zone)}"


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def paragraphs(value: str) -> Markup:
    """Free text as `<p>` blocks with `<br>` for single newlines, escaped first."""
    normalised = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    blocks = [block.strip() for block in _PARAGRAPH_BREAK.split(normalised) if block.strip()]
    return Markup("\n").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(escape(line) for line in block.split("\n")))
        for block in blocks
    )


# --- rendering -------------------------------------------------------------------------------


@functools.cache
def environment() -> jinja2.Environment:
    """The one Environment, built on first use and kept for the life of the Lambda container."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        # Only `.html.j2` is escaped: the text part and subjects are plain text, where `&amp;` would be a bug.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(money=money, day=day, short_day=short_day, time=time, paragraphs=paragraphs)
    return env


@functools.cache
def _inliner() -> css_inline.CSSInliner:
    # No remote stylesheets: rendering must never reach the network.
    return css_inline.CSSInliner(keep_style_tags=False, keep_link_tags=False, load_remote_stylesheets=False)


@functools.cache
def _subject_template(template: str) -> jinja2.Template:
    return environment().from_string(TEMPLATES[template].subject)


def _variables(context: BaseModel) -> dict[str, Any]:
    # `dict(model)` keeps nested models as models (templates use attribute access) and, unlike
    # getattr over model_fields, leaves a field that was never set undefined so StrictUndefined fires.
    variables = dict(context)
    for name in type(context).model_computed_fields:
        variables[name] = getattr(context, name)
    return variables


def render_email(template: str, context: BaseModel) -> RenderedEmail:
    """Render `template` with its context; raise on an unknown template or the wrong context type."""
    try:
        spec = TEMPLATES[template]
    except KeyError:
        raise ValueError(f"unknown email template {template!r}; known: {sorted(TEMPLATES)}") from None
    if not isinstance(context, spec.context_type):
        raise TypeError(f"template {template!r} needs a {spec.context_type.__name__}, got {type(context).__name__}")

    env = environment()
    variables = _variables(context)
    # Subjects are headers: whatever the client typed, a CR/LF must never reach them.
    subject = one_line(_subject_template(template).render(variables))
    html = env.get_template(f"{template}.html.j2").render(variables, subject=subject)
    text = env.get_template(f"{template}.txt.j2").render(variables, subject=subject)
    return RenderedEmail(template=template, subject=subject, html=_inliner().inline(html), text=text)

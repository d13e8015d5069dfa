"""Why clients leave: the reason taxonomy, and a case's reasons from every source.

Kept apart from the form parsers and the steps so that whatever needs the words (the Slack
notes, Stripe's cancellation feedback, the owner's review, the dashboard) imports only this.
"""

from __future__ import annotations

from savedesk.models import Case

REASON_CODES = {
    "price": "Too expensive",
    "results": "Not seeing results",
    "service": "Service or communication",
    "budget_cut": "Budget cut",
    "in_house": "Taking marketing in-house",
    "switched_agency": "Switching to another agency",
    "business_change": "Business closed or changed direction",
    "other": "Something else",
}
_REASON_BY_LABEL = {label.lower(): code for code, label in REASON_CODES.items()}


def reason_code(value: str) -> str:
    value = value.strip()
    if value in REASON_CODES:
        return value
    return _REASON_BY_LABEL.get(value.lower(), "other")


def reason_codes(case: Case) -> list[str]:
    """Taxonomy codes from every source, first seen first (the meeting's codes may add to the survey's)."""
    meeting_codes = case.meeting.reason_codes if case.meeting else []
    return list(dict.fromkeys([*case.reasons.codes, *meeting_codes]))


def reason_labels(codes: list[str]) -> list[str]:
    return [REASON_CODES.get(code, code) for code in codes]


def reason_comments(case: Case) -> list[str]:
    """The client's and the account manager's own words: CRM reason, exit survey, meeting notes."""
    comments = list(case.reasons.comments)
    # The outcome form copies cancel notes into the comments; notes from elsewhere would be missed.
    if case.meeting and case.meeting.outcome == "cancel" and case.meeting.notes:
        comments.append(case.meeting.notes)
    return [c.strip() for c in dict.fromkeys(comments) if c and c.strip()]

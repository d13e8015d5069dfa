"""Form answers: the client's exit survey, the account manager's meeting outcome, a refund approval.

Typeform submissions are read by field `ref` (stable, set in the form builder); other form
tools post SaveDesk's own JSON shape, signed per Standard Webhooks. Either way they become a
FormSubmission, and `apply` records it on the case and, for decisions, resumes the workflow.

Field refs the Typeform forms use (hidden field `case_id` on every form):
- exit survey: `reasons` (multiple choice; choice refs from REASON_CODES), `comments` (long text)
- meeting outcome: `outcome` (choice refs `saved` | `cancel` | `reschedule`), `offer` (choice refs =
  lever codes), `mrr_saved` (number), `notes` (long text), `recorded_by` (email), `next_meeting` (date),
  `reasons` (as in the survey)
- refund approval: `refund_decision` (choice refs `approve` | `reject`), `decided_by` (email), `notes`
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from savedesk.errors import TransientError
from savedesk.intake import InvalidPayload, field_errors
from savedesk.integrations.stepfunctions import TaskNotWaiting
from savedesk.models import Case, CaseStatus, MeetingOutcome
from savedesk.reasons import reason_code
from savedesk.store import CaseStore

OFFER_CODES = {"discount", "pause", "scope_down", "strategy_review", "term_credit", "other"}

Text = Annotated[str, Field(max_length=5000)]


class FormRejected(Exception):
    """A well-formed answer SaveDesk can't act on; `error` is a stable code for the sender."""

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(detail)
        self.error = error
        self.detail = detail


class ExitSurvey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["exit_survey"]
    case_id: str
    reasons: list[str] = Field(default_factory=list, max_length=20)
    comments: Text | None = None


class OutcomeAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["meeting_outcome"]
    case_id: str
    outcome: Literal["saved", "cancel", "reschedule"]
    offer_code: str | None = None
    offer_title: Annotated[str, Field(max_length=200)] | None = None
    mrr_saved: Annotated[Decimal, Field(ge=0, le=10_000_000)] | None = None
    notes: Text | None = None
    recorded_by: Annotated[str, Field(max_length=200)] | None = None
    next_meeting_at: datetime | None = None
    reasons: list[str] = Field(default_factory=list, max_length=20)


class RefundApproval(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["refund_approval"]
    case_id: str
    approved: bool
    decided_by: Annotated[str, Field(max_length=200)] | None = None
    notes: Text | None = None


Submission = ExitSurvey | OutcomeAnswer | RefundApproval
_SUBMISSION: TypeAdapter[Submission] = TypeAdapter(Annotated[Submission, Field(discriminator="type")])


def parse_submission(payload: Any) -> Submission:
    try:
        return _SUBMISSION.validate_python(payload)
    except ValidationError as exc:
        raise InvalidPayload(field_errors(exc)) from exc


# -- Typeform --------------------------------------------------------------------------------


def _choice_refs(answer: dict[str, Any]) -> list[str]:
    """The chosen options as codes: the choice's ref when set, else its label."""
    if answer.get("type") == "choice":
        choice = _mapping(answer.get("choice"))
        return [str(choice.get("ref") or choice.get("label") or choice.get("other") or "")]
    if answer.get("type") == "choices":
        choices = _mapping(answer.get("choices"))
        refs = choices.get("refs") or choices.get("labels") or []
        other = [str(choices["other"])] if choices.get("other") else []
        return [str(r) for r in (refs if isinstance(refs, list) else [])] + other
    return []


def _mapping(value: Any) -> dict[str, Any]:
    """A JSON object from the payload, or {} when the sender put something else there."""
    return value if isinstance(value, dict) else {}


def from_typeform(payload: Any) -> tuple[str, Submission]:
    """(event_id, submission) from Typeform's form_response payload."""
    if not isinstance(payload, dict) or payload.get("event_type") != "form_response":
        raise InvalidPayload([{"field": "event_type", "message": "expected a form_response event"}])
    response = payload.get("form_response")
    if not isinstance(response, dict):
        raise InvalidPayload([{"field": "form_response", "message": "missing"}])
    event_id = payload.get("event_id") or response.get("token")
    if not isinstance(event_id, str) or not event_id:
        raise InvalidPayload([{"field": "event_id", "message": "missing"}])
    hidden = _mapping(response.get("hidden"))
    answers: dict[str, dict[str, Any]] = {}
    listed = response.get("answers")
    for answer in listed if isinstance(listed, list) else []:
        if isinstance(answer, dict) and isinstance(answer.get("field"), dict) and answer["field"].get("ref"):
            answers[str(answer["field"]["ref"])] = answer

    def text(ref: str) -> str | None:
        answer = answers.get(ref)
        if answer is None:
            return None
        kind = answer.get("type")
        value = answer.get(kind) if isinstance(kind, str) else None
        return None if value is None else str(value)

    data: dict[str, Any] = {"case_id": hidden.get("case_id")}
    if "outcome" in answers:
        outcome = (_choice_refs(answers["outcome"]) or [""])[0].lower()
        data.update(
            type="meeting_outcome",
            outcome=outcome,
            notes=text("notes"),
            recorded_by=text("recorded_by"),
            reasons=[reason_code(r) for r in _choice_refs(answers.get("reasons", {}))],
        )
        if "offer" in answers:
            offer = (_choice_refs(answers["offer"]) or [""])[0]
            data["offer_code"] = offer if offer in OFFER_CODES else "other"
            data["offer_title"] = None if offer in OFFER_CODES else offer
        if text("mrr_saved") is not None:
            data["mrr_saved"] = text("mrr_saved")
        if text("next_meeting") is not None:
            data["next_meeting_at"] = text("next_meeting")
    elif "refund_decision" in answers:
        decision = (_choice_refs(answers["refund_decision"]) or [""])[0].lower()
        if decision not in ("approve", "reject"):
            raise InvalidPayload([{"field": "refund_decision", "message": "expected approve or reject"}])
        data.update(
            type="refund_approval", approved=decision == "approve", decided_by=text("decided_by"), notes=text("notes")
        )
    else:
        data.update(
            type="exit_survey",
            reasons=[reason_code(r) for r in _choice_refs(answers.get("reasons", {}))],
            comments=text("comments"),
        )
    data = {k: v for k, v in data.items() if v is not None}
    return event_id, parse_submission(data)


# -- recording an answer ---------------------------------------------------------------------


class Resumer(Protocol):
    def resume(self, token: str, output: dict[str, Any]) -> None: ...


def apply(store: CaseStore, workflow: Resumer, submission: Submission) -> dict[str, Any]:
    case = store.get_case(submission.case_id)
    if case is None:
        raise FormRejected("unknown_case", f"no case {submission.case_id}")
    if isinstance(submission, ExitSurvey):
        return _record_survey(store, case, submission)
    if isinstance(submission, OutcomeAnswer):
        return _record_outcome(store, workflow, case, submission)
    return _record_refund_decision(store, workflow, case, submission)


def _with_reasons(case: Case, codes: list[str], comment: str | None, source: str) -> Case:
    reasons = case.reasons.model_copy(deep=True)
    reasons.codes = list(dict.fromkeys([*reasons.codes, *codes]))
    if comment:
        reasons.comments.append(comment)
    if source not in reasons.sources:
        reasons.sources.append(source)
    return case.model_copy(update={"reasons": reasons})


def _record_survey(store: CaseStore, case: Case, survey: ExitSurvey) -> dict[str, Any]:
    codes = [reason_code(r) for r in survey.reasons]
    store.update_case(case.case_id, lambda c: _with_reasons(c, codes, survey.comments, "exit_survey"))
    store.append_event(case.case_id, "exit_survey_received", {"reasons": codes})
    return {"case_id": case.case_id, "recorded": "exit_survey"}


def _resume_or_restore(
    store: CaseStore, workflow: Resumer, case: Case, kind: str, token: str, output: dict[str, Any]
) -> None:
    """Resume the waiting task; if that fails, put the case and the token back as they were."""
    try:
        workflow.resume(token, output)
    except TaskNotWaiting as exc:
        store.update_case(
            case.case_id,
            lambda c: c.model_copy(update={"meeting": case.meeting, "refund_decision": case.refund_decision}),
        )
        raise FormRejected("already_decided", "the workflow stopped waiting for this answer (it timed out)") from exc
    except TransientError:
        store.update_case(
            case.case_id,
            lambda c: c.model_copy(update={"meeting": case.meeting, "refund_decision": case.refund_decision}),
        )
        store.save_task_token(case.case_id, kind, token)
        raise


def _record_outcome(store: CaseStore, workflow: Resumer, case: Case, answer: OutcomeAnswer) -> dict[str, Any]:
    if case.status != CaseStatus.OPEN or (case.meeting is not None and case.meeting.outcome != "reschedule"):
        raise FormRejected(
            "already_decided", f"case {case.case_id} is {case.status.value.lower()}; its meeting outcome can't change"
        )
    token = store.take_task_token(case.case_id, "meeting")
    if token is None:
        raise FormRejected("not_waiting", "the workflow is not waiting for an outcome yet; try again in a minute")
    outcome = MeetingOutcome(
        outcome=answer.outcome,
        offer_code=answer.offer_code,
        offer_title=answer.offer_title,
        mrr_saved=answer.mrr_saved,
        recorded_by=answer.recorded_by,
        notes=answer.notes,
        reason_codes=[reason_code(r) for r in answer.reasons],
        next_meeting_at=answer.next_meeting_at,
    )
    store.update_case(
        case.case_id,
        lambda c: _with_reasons(
            c.model_copy(update={"meeting": outcome}),
            outcome.reason_codes,
            answer.notes if answer.outcome == "cancel" else None,
            "meeting",
        ),
    )
    _resume_or_restore(store, workflow, case, "meeting", token, outcome.model_dump(mode="json"))
    store.append_event(case.case_id, "meeting_outcome_recorded", {"outcome": answer.outcome})
    return {"case_id": case.case_id, "recorded": "meeting_outcome", "outcome": answer.outcome}


def _record_refund_decision(store: CaseStore, workflow: Resumer, case: Case, answer: RefundApproval) -> dict[str, Any]:
    if case.refund_decision is not None:
        raise FormRejected("already_decided", f"the refund for case {case.case_id} was already decided")
    token = store.take_task_token(case.case_id, "refund")
    if token is None:
        raise FormRejected("not_waiting", "no refund of this case is waiting for approval")
    decision = {
        "approved": answer.approved,
        "decided_by": answer.decided_by,
        "notes": answer.notes,
        "decided_at": datetime.now(UTC).isoformat(),
    }
    store.update_case(case.case_id, lambda c: c.model_copy(update={"refund_decision": decision}))
    _resume_or_restore(store, workflow, case, "refund", token, decision)
    store.append_event(case.case_id, "refund_decision_recorded", {"approved": answer.approved})
    return {"case_id": case.case_id, "recorded": "refund_approval", "approved": answer.approved}

"""The Lambda behind the callback states (WaitForMeetingOutcome, WaitForRefundApproval).

It keeps the task token on the case so a form answer can resume the workflow. When the
answer is already on the case (a re-run after the decision), it resumes at once.
"""

from __future__ import annotations

from typing import Any, Protocol

from savedesk.errors import PermanentError
from savedesk.store import CaseStore


class Resumer(Protocol):
    def resume(self, token: str, output: dict[str, Any]) -> None: ...


def recorded_answer(case: Any, kind: str) -> dict[str, Any] | None:
    if kind == "meeting" and case.meeting is not None and case.meeting.outcome in ("saved", "cancel"):
        return case.meeting.model_dump(mode="json")
    if kind == "refund" and case.refund_decision is not None:
        return dict(case.refund_decision)
    return None


def wait(event: dict[str, Any], store: CaseStore, workflow: Resumer) -> dict[str, Any]:
    case_id, token, kind = event.get("case_id"), event.get("task_token"), event.get("kind")
    if not case_id or not token or kind not in ("meeting", "refund"):
        raise PermanentError("waiting: the input needs case_id, task_token and kind (meeting|refund)")
    case = store.get_case(case_id)
    if case is None:
        raise PermanentError(f"waiting: no case {case_id}")
    answer = recorded_answer(case, kind)
    if answer is not None:
        workflow.resume(token, answer)
        store.append_event(case_id, "resumed_with_recorded_answer", {"kind": kind})
        return {"waiting": False}
    store.save_task_token(case_id, kind, token)
    store.append_event(case_id, "waiting", {"for": kind})
    return {"waiting": True}

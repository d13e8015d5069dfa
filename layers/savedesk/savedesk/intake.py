"""Opening a case from a CRM's cancel webhook: map the CRM's fields, store, start the workflow."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from savedesk.errors import TransientError
from savedesk.models import Case, ClientAccount, ExitReasons
from savedesk.store import CaseStore


class InvalidPayload(Exception):
    """The body is JSON but not a cancellation we can act on; `fields` says which and why."""

    def __init__(self, fields: list[dict[str, str]]) -> None:
        super().__init__("invalid fields: " + ", ".join(f["field"] for f in fields))
        self.fields = fields


class WorkflowStarter(Protocol):
    def start(self, case_id: str) -> None: ...


@dataclass(frozen=True)
class IntakeResult:
    case_id: str
    status: str
    created: bool
    reason: str


def case_id_for(source: str, delivery_id: str) -> str:
    """Deterministic, so a redelivery maps to the same case and execution name (<= 80 chars, [a-z0-9-])."""
    digest = hashlib.sha256(f"{source}\n{delivery_id}".encode()).hexdigest()
    return f"case-{digest[:20]}"


def field_errors(exc: ValidationError, names: dict[str, str] | None = None) -> list[dict[str, str]]:
    """Pydantic's errors as [{field, message}], named as the sender named them."""
    found = []
    for error in exc.errors():
        ours = ".".join(str(part) for part in error["loc"]) or "body"
        theirs = (names or {}).get(str(error["loc"][0]), ours) if error["loc"] else ours
        found.append({"field": theirs, "message": error["msg"]})
    return found


def account_from_crm(payload: Any, property_map: dict[str, str] | None) -> ClientAccount:
    """Build the client's account from the CRM body.

    With a property map (HubSpot), each of our fields is read from the CRM property the map
    names and other properties are ignored; without one, the body uses our field names.
    CRMs send empty properties as "", which means "not on file".
    """
    if not isinstance(payload, dict):
        raise InvalidPayload([{"field": "body", "message": "expected a JSON object"}])
    if property_map:
        data = {ours: payload[theirs] for ours, theirs in property_map.items() if theirs in payload}
        names = property_map
    else:
        data = dict(payload)
        names = None
    data = {key: value for key, value in data.items() if value not in ("", None)}
    try:
        return ClientAccount.model_validate(data)
    except ValidationError as exc:
        raise InvalidPayload(field_errors(exc, names)) from exc


def receive_cancellation(
    store: CaseStore, workflow: WorkflowStarter, account: ClientAccount, source: str, delivery_id: str
) -> IntakeResult:
    case = Case(
        case_id=case_id_for(source, delivery_id),
        source=source,
        delivery_id=delivery_id,
        account=account,
        reasons=ExitReasons(
            comments=[account.cancellation_reason] if account.cancellation_reason else [],
            sources=["crm"] if account.cancellation_reason else [],
        ),
    )
    outcome = store.open_case(case, {"source": source, "delivery_id": delivery_id})
    if outcome.created:
        try:
            workflow.start(case.case_id)
        except TransientError:
            # Nothing half-stored: the sender retries and the retry starts afresh.
            store.discard_case(case)
            raise
        return IntakeResult(case.case_id, case.status.value, True, outcome.reason)

    existing = store.get_case(outcome.case_id)
    if existing is None:  # the lock points at a case that was just discarded: let the sender retry
        raise TransientError("case store: open case vanished while reading it")
    if outcome.reason == "duplicate_delivery" and existing.status.value == "OPEN":
        # A redelivery after a half-finished first attempt (stored, not started) completes it.
        workflow.start(existing.case_id)
    store.append_event(existing.case_id, outcome.reason, {"source": source, "delivery_id": delivery_id})
    return IntakeResult(existing.case_id, existing.status.value, False, outcome.reason)

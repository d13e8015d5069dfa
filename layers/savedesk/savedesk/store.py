"""DynamoDB access: the only module that knows the cases table's keys.

One table, one partition per case:

    pk                          sk                      what
    CASE#<case_id>              CASE                    the case document (+ status, GSI keys)
    CASE#<case_id>              STEP#<StepName>         a step's recorded result and effects
    CASE#<case_id>              EVENT#<iso time>#<n>    the case's event log (audit trail)
    DELIVERY#<source>#<id>      DELIVERY                a webhook delivery seen, pointing at its case
    ACCOUNT#<account_id>        OPEN                    the open case of an account (one at a time)
    TOKEN#<case_id>             MEETING | REFUND        the task token a waiting state gave us
    DIGEST#<ISO week>           DIGEST                  the owner's weekly digest was sent for that week

GSI `by_status`: gsi1pk = STATUS#<status>, gsi1sk = <opened_at>#<case_id>, for listing cases.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

from savedesk.errors import TransientError
from savedesk.models import Case, CaseStatus, utcnow

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CASE_SK = "CASE"

# DynamoDB errors that a retry can fix; everything else is a bug or a misconfiguration.
_TRANSIENT_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
}
_TRANSIENT_TRANSPORT_ERRORS = {
    "EndpointConnectionError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ConnectionClosedError",
}


class StoreError(TransientError):
    """DynamoDB failed in a way a retry can fix (the ingress answers 5xx, the workflow retries)."""


class ConflictError(Exception):
    """An optimistic-lock or uniqueness condition did not hold."""


@dataclass(frozen=True)
class OpenOutcome:
    case_id: str
    created: bool
    reason: str  # "created", "duplicate_delivery", "account_has_open_case"


def _case_pk(case_id: str) -> str:
    return f"CASE#{case_id}"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


class CaseStore:
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.table = table_name
        self.client = client

    # -- the case ---------------------------------------------------------------------------

    def _case_item(self, case: Case) -> dict[str, Any]:
        return {
            "pk": _s(_case_pk(case.case_id)),
            "sk": _s(CASE_SK),
            "status": _s(case.status.value),
            "account_id": _s(case.account.account_id),
            "gsi1pk": _s(f"STATUS#{case.status.value}"),
            "gsi1sk": _s(f"{case.opened_at.isoformat()}#{case.case_id}"),
            "version": _n(case.version),
            "doc": _s(case.model_dump_json()),
        }

    def open_case(self, case: Case, event: dict[str, Any]) -> OpenOutcome:
        """Store a new case atomically with its delivery record and the account's open-case lock.

        A delivery seen before, or an account that already has an open case, stores nothing
        and points at the existing case instead.
        """
        delivery_key = {"pk": _s(f"DELIVERY#{case.source}#{case.delivery_id}"), "sk": _s("DELIVERY")}
        account_key = {"pk": _s(f"ACCOUNT#{case.account.account_id}"), "sk": _s("OPEN")}
        items = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": self._case_item(case),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {**delivery_key, "case_id": _s(case.case_id), "received_at": _s(_now_iso())},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {**account_key, "case_id": _s(case.case_id)},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Put": {"TableName": self.table, "Item": self._event_item(case.case_id, "case_opened", event)}},
        ]
        try:
            self.client.transact_write_items(TransactItems=items)
            return OpenOutcome(case.case_id, True, "created")
        except self.client.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" not in reasons:
                raise StoreError(f"dynamodb: transaction cancelled ({reasons})") from exc
            # Which condition failed tells which existing case to point at.
            existing = self.case_id_for_delivery(case.source, case.delivery_id)
            if existing:
                return OpenOutcome(existing, False, "duplicate_delivery")
            existing = self.open_case_for_account(case.account.account_id)
            if existing:
                return OpenOutcome(existing, False, "account_has_open_case")
            raise StoreError("dynamodb: conflicting write in progress") from exc
        except Exception as exc:
            self._raise(exc)

    def discard_case(self, case: Case) -> None:
        """Undo open_case when the workflow could not be started, so the sender's retry starts afresh."""
        keys = [
            {"pk": _s(_case_pk(case.case_id)), "sk": _s(CASE_SK)},
            {"pk": _s(f"DELIVERY#{case.source}#{case.delivery_id}"), "sk": _s("DELIVERY")},
            {"pk": _s(f"ACCOUNT#{case.account.account_id}"), "sk": _s("OPEN")},
        ]
        try:
            self.client.transact_write_items(
                TransactItems=[{"Delete": {"TableName": self.table, "Key": k}} for k in keys]
            )
            for event_key in self._event_keys(case.case_id):
                self.client.delete_item(TableName=self.table, Key=event_key)
        except Exception as exc:
            self._raise(exc)

    def case_id_for_delivery(self, source: str, delivery_id: str) -> str | None:
        item = self._get({"pk": _s(f"DELIVERY#{source}#{delivery_id}"), "sk": _s("DELIVERY")})
        return item["case_id"]["S"] if item else None

    def open_case_for_account(self, account_id: str) -> str | None:
        item = self._get({"pk": _s(f"ACCOUNT#{account_id}"), "sk": _s("OPEN")})
        return item["case_id"]["S"] if item else None

    def get_case(self, case_id: str) -> Case | None:
        item = self._get({"pk": _s(_case_pk(case_id)), "sk": _s(CASE_SK)})
        return Case.model_validate_json(item["doc"]["S"]) if item else None

    def save_case(self, case: Case) -> Case:
        """Write the case back if nobody else did since it was read (optimistic lock on `version`).

        Leaving a final status (SAVED, CLOSED) also releases the account's open-case lock,
        so the client can cancel again some day.
        """
        previous = case.version
        updated = case.model_copy(update={"version": previous + 1, "updated_at": utcnow()})
        put = {
            "Put": {
                "TableName": self.table,
                "Item": self._case_item(updated),
                "ConditionExpression": "#v = :v",
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {":v": _n(previous)},
            }
        }
        items: list[dict[str, Any]] = [put]
        if updated.status in (CaseStatus.SAVED, CaseStatus.CLOSED):
            items.append(
                {
                    "Delete": {
                        "TableName": self.table,
                        "Key": {"pk": _s(f"ACCOUNT#{case.account.account_id}"), "sk": _s("OPEN")},
                        "ConditionExpression": "attribute_not_exists(pk) OR case_id = :c",
                        "ExpressionAttributeValues": {":c": _s(case.case_id)},
                    }
                }
            )
        try:
            self.client.transact_write_items(TransactItems=items)
        except self.client.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in reasons:
                raise ConflictError(f"case {case.case_id} changed since it was read") from exc
            raise StoreError(f"dynamodb: transaction cancelled ({reasons})") from exc
        except Exception as exc:
            self._raise(exc)
        return updated

    def update_case(self, case_id: str, change: Callable[[Case], Case], attempts: int = 5) -> Case:
        """Apply `change` to the latest case and save it; a concurrent writer makes it re-read and re-apply."""
        for _ in range(attempts):
            latest = self.get_case(case_id)
            if latest is None:
                raise KeyError(case_id)
            try:
                return self.save_case(change(latest))
            except ConflictError:
                continue
        raise ConflictError(f"case {case_id} kept changing while it was being saved")

    def list_cases(self, status: CaseStatus | None = None, limit: int = 200) -> list[Case]:
        """Cases newest first, by status through the GSI, or all of them by scanning case items."""
        cases: list[Case] = []
        try:
            if status is not None:
                pages = self.client.get_paginator("query").paginate(
                    TableName=self.table,
                    IndexName="by_status",
                    KeyConditionExpression="gsi1pk = :p",
                    ExpressionAttributeValues={":p": _s(f"STATUS#{status.value}")},
                    ScanIndexForward=False,
                )
            else:
                pages = self.client.get_paginator("scan").paginate(
                    TableName=self.table,
                    FilterExpression="sk = :c",
                    ExpressionAttributeValues={":c": _s(CASE_SK)},
                )
            for page in pages:
                cases.extend(Case.model_validate_json(item["doc"]["S"]) for item in page["Items"])
        except Exception as exc:
            self._raise(exc)
        cases.sort(key=lambda c: c.opened_at, reverse=True)
        return cases[:limit]

    # -- steps ------------------------------------------------------------------------------

    def get_step(self, case_id: str, step: str) -> dict[str, Any] | None:
        item = self._get({"pk": _s(_case_pk(case_id)), "sk": _s(f"STEP#{step}")})
        if not item:
            return None
        return {
            "status": item["status"]["S"],
            "result": json.loads(item["result"]["S"]) if "result" in item else None,
            "effects": json.loads(item["effects"]["S"]) if "effects" in item else {},
            "runs": int(item["runs"]["N"]) if "runs" in item else 0,
        }

    def start_step(self, case_id: str, step: str) -> dict[str, Any]:
        """Mark a step as started (counting runs) and return what it recorded before, effects included."""
        try:
            response = self.client.update_item(
                TableName=self.table,
                Key={"pk": _s(_case_pk(case_id)), "sk": _s(f"STEP#{step}")},
                UpdateExpression="SET #s = if_not_exists(#s, :started), started_at = :now ADD runs :one",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":started": _s("STARTED"), ":now": _s(_now_iso()), ":one": _n(1)},
                ReturnValues="ALL_NEW",
            )
        except Exception as exc:
            self._raise(exc)
        item = response["Attributes"]
        return {
            "status": item["status"]["S"],
            "effects": json.loads(item["effects"]["S"]) if "effects" in item else {},
            "runs": int(item["runs"]["N"]),
        }

    def record_effect(self, case_id: str, step: str, effects: dict[str, Any]) -> None:
        """Persist the external ids a step produced so far (Slack ts, ClickUp ids, SES ids, intents)."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"pk": _s(_case_pk(case_id)), "sk": _s(f"STEP#{step}")},
                UpdateExpression="SET effects = :e",
                ExpressionAttributeValues={":e": _s(json.dumps(effects, default=str, sort_keys=True))},
            )
        except Exception as exc:
            self._raise(exc)

    def complete_step(self, case_id: str, step: str, result: dict[str, Any]) -> None:
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"pk": _s(_case_pk(case_id)), "sk": _s(f"STEP#{step}")},
                UpdateExpression="SET #s = :done, #r = :r, finished_at = :now",
                ExpressionAttributeNames={"#s": "status", "#r": "result"},
                ExpressionAttributeValues={
                    ":done": _s("COMPLETED"),
                    ":r": _s(json.dumps(result, default=str, sort_keys=True)),
                    ":now": _s(_now_iso()),
                },
            )
        except Exception as exc:
            self._raise(exc)

    def steps(self, case_id: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for item in self._query_prefix(case_id, "STEP#"):
            found[item["sk"]["S"].removeprefix("STEP#")] = {
                "status": item["status"]["S"],
                "result": json.loads(item["result"]["S"]) if "result" in item else None,
                "effects": json.loads(item["effects"]["S"]) if "effects" in item else {},
                "runs": int(item["runs"]["N"]) if "runs" in item else 0,
                "finished_at": item.get("finished_at", {}).get("S"),
            }
        return found

    # -- the event log ----------------------------------------------------------------------

    def _event_item(self, case_id: str, kind: str, detail: dict[str, Any]) -> dict[str, Any]:
        at = _now_iso()
        return {
            "pk": _s(_case_pk(case_id)),
            "sk": _s(f"EVENT#{at}#{secrets.token_hex(3)}"),
            "at": _s(at),
            "kind": _s(kind),
            "detail": _s(json.dumps(detail, default=str, sort_keys=True)),
        }

    def append_event(self, case_id: str, kind: str, detail: dict[str, Any] | None = None) -> None:
        try:
            self.client.put_item(TableName=self.table, Item=self._event_item(case_id, kind, detail or {}))
        except Exception as exc:
            self._raise(exc)

    def events(self, case_id: str) -> list[dict[str, Any]]:
        return [
            {"at": item["at"]["S"], "kind": item["kind"]["S"], "detail": json.loads(item["detail"]["S"])}
            for item in self._query_prefix(case_id, "EVENT#")
        ]

    def _event_keys(self, case_id: str) -> Iterator[dict[str, Any]]:
        for item in self._query_prefix(case_id, "EVENT#"):
            yield {"pk": item["pk"], "sk": item["sk"]}

    # -- task tokens the workflow waits on ---------------------------------------------------

    def save_task_token(self, case_id: str, kind: str, token: str) -> None:
        """Keep the token a waiting task gave us (kind: "meeting" or "refund"); a newer wait replaces it."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "pk": _s(f"TOKEN#{case_id}"),
                    "sk": _s(kind.upper()),
                    "token": _s(token),
                    "since": _s(_now_iso()),
                },
            )
        except Exception as exc:
            self._raise(exc)

    def take_task_token(self, case_id: str, kind: str) -> str | None:
        """Remove and return the waiting token, so one answer resumes the workflow exactly once."""
        try:
            response = self.client.delete_item(
                TableName=self.table,
                Key={"pk": _s(f"TOKEN#{case_id}"), "sk": _s(kind.upper())},
                ReturnValues="ALL_OLD",
            )
        except Exception as exc:
            self._raise(exc)
        item = response.get("Attributes")
        return item["token"]["S"] if item else None

    def peek_task_token(self, case_id: str, kind: str) -> str | None:
        item = self._get({"pk": _s(f"TOKEN#{case_id}"), "sk": _s(kind.upper())})
        return item["token"]["S"] if item else None

    def record_delivery(self, source: str, delivery_id: str, case_id: str) -> bool:
        """Remember a form delivery; False when it was seen before (a redelivery to skip)."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "pk": _s(f"DELIVERY#{source}#{delivery_id}"),
                    "sk": _s("DELIVERY"),
                    "case_id": _s(case_id),
                    "received_at": _s(_now_iso()),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        except Exception as exc:
            self._raise(exc)
        return True

    def forget_delivery(self, source: str, delivery_id: str) -> None:
        """Undo record_delivery when acting on it failed, so the sender's retry is not taken for a duplicate."""
        try:
            self.client.delete_item(
                TableName=self.table, Key={"pk": _s(f"DELIVERY#{source}#{delivery_id}"), "sk": _s("DELIVERY")}
            )
        except Exception as exc:
            self._raise(exc)

    # -- the weekly digest -------------------------------------------------------------------

    def record_digest(self, week: str) -> bool:
        """Claim the digest of ISO week `week` (e.g. "2026-W49"); False when it was claimed before."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item={"pk": _s(f"DIGEST#{week}"), "sk": _s("DIGEST"), "sent_at": _s(_now_iso())},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        except Exception as exc:
            self._raise(exc)
        return True

    def forget_digest(self, week: str) -> None:
        """Undo record_digest when sending failed, so the next attempt sends it."""
        try:
            self.client.delete_item(TableName=self.table, Key={"pk": _s(f"DIGEST#{week}"), "sk": _s("DIGEST")})
        except Exception as exc:
            self._raise(exc)

    # -- plumbing ---------------------------------------------------------------------------

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        try:
            response = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True)
        except Exception as exc:
            self._raise(exc)
        return response.get("Item")

    def _query_prefix(self, case_id: str, prefix: str) -> Iterator[dict[str, Any]]:
        try:
            pages = self.client.get_paginator("query").paginate(
                TableName=self.table,
                KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
                ExpressionAttributeValues={":p": _s(_case_pk(case_id)), ":s": _s(prefix)},
                ConsistentRead=True,
            )
            for page in pages:
                yield from page["Items"]
        except Exception as exc:
            self._raise(exc)

    @staticmethod
    def _raise(exc: Exception) -> NoReturn:
        """Re-raise a boto error as StoreError when a retry can fix it; anything else as it is."""
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code in _TRANSIENT_CODES or type(exc).__name__ in _TRANSIENT_TRANSPORT_ERRORS:
            raise StoreError(f"dynamodb: {code or type(exc).__name__}") from exc
        raise exc

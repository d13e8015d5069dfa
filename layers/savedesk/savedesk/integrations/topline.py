"""Topline admin API client: read an account, switch off its access, prove it is off.

The contract is ours and written down in docs/topline-admin-api.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ValidationError

from savedesk.errors import TransientError, VendorError
from savedesk.integrations.http import DEFAULT_TIMEOUT, call_json, json_request

VENDOR = "topline"


class ToplineUser(BaseModel):
    id: str
    email: str
    role: str
    active: bool


class ToplineIntegration(BaseModel):
    name: str
    connected: bool


class ToplineAccount(BaseModel):
    id: str
    name: str
    status: Literal["active", "deactivated"]
    users: list[ToplineUser]
    integrations: list[ToplineIntegration]
    deactivated_at: datetime | None = None

    @property
    def access_revoked(self) -> bool:
        """Deactivated, no active user, no connected integration: nothing left to reach."""
        return (
            self.status == "deactivated"
            and not any(u.active for u in self.users)
            and not any(i.connected for i in self.integrations)
        )

    def remaining_access(self) -> list[str]:
        """What is still switched on, for the error message and the ops notification."""
        left = [f"status={self.status}"] if self.status != "deactivated" else []
        left += [f"user {u.email}" for u in self.users if u.active]
        left += [f"integration {i.name}" for i in self.integrations if i.connected]
        return left


class ToplineClient:
    """`base_url` stops before the version: `https://admin.topline.example/api` or `http://127.0.0.1:PORT/topline`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        http: httpx.Client | None = None,
        budget_seconds: Callable[[], float] | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._http = http or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._budget_seconds = budget_seconds

    def get_account(self, account_id: str) -> ToplineAccount:
        return self._account(self._call("GET", f"/v1/accounts/{account_id}"))

    def deactivate(
        self,
        account_id: str,
        reason: str,
        requested_by: str,
        idempotency_key: str,
        effective_at: datetime | None = None,
    ) -> ToplineAccount:
        """Deactivate users, revoke API keys, disconnect integrations. Safe to repeat with the same key."""
        body: dict[str, Any] = {"reason": reason, "requested_by": requested_by}
        if effective_at is not None:
            body["effective_at"] = effective_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        data = self._call(
            "POST", f"/v1/accounts/{account_id}/deactivate", body=body, headers={"Idempotency-Key": idempotency_key}
        )
        return self._account(data)

    def revoke_and_verify(
        self,
        account_id: str,
        reason: str,
        requested_by: str,
        idempotency_key: str,
        effective_at: datetime | None = None,
    ) -> ToplineAccount:
        """Deactivate, then read the account back: a 200 is not proof that access is gone."""
        self.deactivate(account_id, reason, requested_by, idempotency_key, effective_at)
        account = self.get_account(account_id)
        if not account.access_revoked:
            left = ", ".join(account.remaining_access())
            raise VendorError(f"topline: account still active after deactivate: {account_id} ({left})")
        return account

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        request = json_request(
            self._http,
            method,
            f"{self._base_url}{path}",
            headers={"Authorization": f"Bearer {self._api_key}", "Accept": "application/json", **(headers or {})},
            json_body=body,
        )
        return call_json(
            self._http,
            request,
            vendor=VENDOR,
            budget_seconds=self._budget_seconds,
            describe_error=lambda r: f"{VENDOR}: {r.status_code} {_error_detail(r)} ({method} {path})",
        )

    @staticmethod
    def _account(data: dict[str, Any]) -> ToplineAccount:
        try:
            return ToplineAccount.model_validate(data)
        except ValidationError as exc:
            # A 2xx with a body that is not an account: the contract was broken on their side.
            raise TransientError(f"{VENDOR}: malformed account in response: {exc.error_count()} errors") from exc


def _error_detail(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
        return f"{error.get('code', 'error')}: {error.get('message', '')}".strip()
    except (ValueError, AttributeError):
        return response.text[:200] or response.reason_phrase

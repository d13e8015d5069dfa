"""Topline admin API stand-in: the contract in docs/topline-admin-api.md, mounted at `/topline`."""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, request

from local.sandbox.app import vendor_state

API_KEY = "tl_admin_local"
ACCOUNT_ID = "tl_acme_001"

blueprint = Blueprint("topline", __name__)


@dataclass
class ToplineState:
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Idempotency-Key → (account id, body) it was first used with.
    idempotency: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    # What a deactivation revoked, per account (the API doesn't show keys; tests and the demo can).
    revoked_api_keys: dict[str, int] = field(default_factory=dict)
    api_keys: dict[str, int] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)
    admin_keys: set[str] = field(default_factory=lambda: {API_KEY})
    lock: threading.RLock = field(default_factory=threading.RLock)


def new_state() -> ToplineState:
    state = ToplineState()
    add_account(
        state,
        ACCOUNT_ID,
        "Acme Dental Group",
        users=[
            ("usr_acme_01", "dana@acme-dental.example", "owner"),
            ("usr_acme_02", "marketing@acme-dental.example", "admin"),
            ("usr_acme_03", "frontdesk@acme-dental.example", "viewer"),
        ],
        integrations=["google_ads", "meta_ads", "ga4"],
        api_keys=2,
    )
    return state


def add_account(
    state: ToplineState,
    account_id: str,
    name: str,
    *,
    users: list[tuple[str, str, str]],
    integrations: list[str],
    api_keys: int = 1,
) -> dict[str, Any]:
    account = {
        "id": account_id,
        "name": name,
        "status": "active",
        "users": [{"id": uid, "email": email, "role": role, "active": True} for uid, email, role in users],
        "integrations": [{"name": n, "connected": True} for n in integrations],
        "deactivated_at": None,
    }
    state.accounts[account_id] = account
    state.api_keys[account_id] = api_keys
    return account


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps({"error": {"code": code, "message": message}}), status, mimetype="application/json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _ok(account: dict[str, Any]) -> Response:
    return Response(json.dumps(copy.deepcopy(account)), 200, mimetype="application/json")


def _authorized(state: ToplineState) -> bool:
    header = request.headers.get("Authorization", "")
    return header.startswith("Bearer ") and header.removeprefix("Bearer ").strip() in state.admin_keys


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _parse_time(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@blueprint.get("/v1/accounts/<account_id>")
def get_account(account_id: str) -> Response:
    state: ToplineState = vendor_state("topline")
    if not _authorized(state):
        return _error(401, "unauthorized", "Missing or invalid admin key")
    account = state.accounts.get(account_id)
    if account is None:
        return _error(404, "account_not_found", f"No account '{account_id}'")
    return _ok(account)


@blueprint.post("/v1/accounts/<account_id>/deactivate")
def deactivate(account_id: str) -> Response:
    state: ToplineState = vendor_state("topline")
    if not _authorized(state):
        return _error(401, "unauthorized", "Missing or invalid admin key")
    account = state.accounts.get(account_id)
    if account is None:
        return _error(404, "account_not_found", f"No account '{account_id}'")
    key = request.headers.get("Idempotency-Key", "")
    if not 1 <= len(key) <= 255:
        return _error(422, "validation_error", "Idempotency-Key header is required (1-255 characters)")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(422, "validation_error", "Body must be a JSON object")
    for name in ("reason", "requested_by"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            return _error(422, "validation_error", f"'{name}' is required")
    effective_at = body.get("effective_at")
    deactivated_at = _now()
    if effective_at is not None:
        moment = _parse_time(effective_at) if isinstance(effective_at, str) else None
        if moment is None:
            return _error(422, "validation_error", "'effective_at' must be an ISO 8601 time with a zone")
        if moment > datetime.now(UTC):
            return _error(422, "validation_error", "'effective_at' must not be in the future")
        deactivated_at = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

    with state.lock:
        first_use = state.idempotency.get(key)
        if first_use is not None and first_use != (account_id, body):
            return _error(409, "idempotency_key_reused", f"Idempotency-Key '{key}' was used with another request")
        state.idempotency[key] = (account_id, body)
        if account["status"] != "deactivated":
            for user in account["users"]:
                user["active"] = False
            for integration in account["integrations"]:
                integration["connected"] = False
            state.revoked_api_keys[account_id] = state.api_keys.get(account_id, 0)
            state.api_keys[account_id] = 0
            account["status"] = "deactivated"
            account["deactivated_at"] = deactivated_at
            state.audit.append({"account": account_id, "action": "deactivate", **body})
        return _ok(account)

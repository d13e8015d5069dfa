"""Inbound webhooks, transport side: size, signature, content type, JSON, in that order.

Signatures are checked over the raw bytes before anything is parsed or stored. Every
refusal is an HttpProblem the handler turns into `{"error", "detail"}` with its status.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from savedesk.integrations import signatures

MAX_BODY_BYTES = 256 * 1024


class HttpProblem(Exception):
    def __init__(self, status: int, error: str, detail: str, fields: list[dict[str, str]] | None = None) -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail
        self.fields = fields

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error, "detail": self.detail}
        if self.fields:
            body["fields"] = self.fields
        return body


@dataclass(frozen=True)
class Inbound:
    method: str
    url: str  # the public URL the sender called, as it signed it
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def check_size(request: Inbound) -> None:
    if len(request.body) > MAX_BODY_BYTES:
        raise HttpProblem(413, "payload_too_large", f"body is {len(request.body)} bytes; the limit is {MAX_BODY_BYTES}")


def parse_json(request: Inbound) -> Any:
    content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise HttpProblem(415, "unsupported_media_type", "send the body as application/json")
    try:
        return json.loads(request.body)
    except (ValueError, RecursionError) as exc:
        raise HttpProblem(400, "malformed_json", "the body is not valid JSON") from exc


def _refuse(exc: signatures.SignatureError) -> HttpProblem:
    return HttpProblem(401, exc.reason, exc.detail)


def verify_hubspot(request: Inbound, client_secrets: Sequence[str]) -> str:
    """Check HubSpot's v3 signature; return the delivery id (HubSpot's workflow action sends none)."""
    try:
        signatures.verify_hubspot_v3(
            client_secrets=client_secrets,
            method=request.method,
            uri=request.url,
            body=request.body,
            signature=request.header("x-hubspot-signature-v3"),
            timestamp_ms=request.header("x-hubspot-request-timestamp"),
        )
    except signatures.SignatureError as exc:
        raise _refuse(exc) from exc
    # A retry of the same enrolment carries the same body, so the body is the delivery's identity.
    return "sha256-" + hashlib.sha256(request.body).hexdigest()


def verify_standard(request: Inbound, secrets: Sequence[str]) -> str:
    """Check a Standard Webhooks signature; return the sender's `webhook-id`."""
    try:
        signatures.verify_standard_webhook(
            secrets=secrets,
            msg_id=request.header("webhook-id"),
            timestamp=request.header("webhook-timestamp"),
            signature_header=request.header("webhook-signature"),
            body=request.body,
        )
    except signatures.SignatureError as exc:
        raise _refuse(exc) from exc
    return str(request.header("webhook-id"))


def verify_typeform(request: Inbound, secrets: Sequence[str]) -> None:
    try:
        signatures.verify_typeform(secrets=secrets, signature=request.header("typeform-signature"), body=request.body)
    except signatures.SignatureError as exc:
        raise _refuse(exc) from exc

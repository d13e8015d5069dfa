"""Schemathesis over docs/openapi.yaml against the local HTTP API, every request signed over its exact body.

Signing is what makes the run worth having: unsigned, every request stops at the 401 and the
parsers are never reached. Each generated case is serialized here, signed the way its route
expects (HubSpot v3, Typeform or Standard Webhooks) and sent; the response must be no 5xx and
must match the description (status code, content type, schema).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local.client import hubspot_headers, standard_headers
from local.stack import LocalStack, local_secrets
from local.template import ROOT
from savedesk.integrations.signatures import sign_typeform

pytestmark = pytest.mark.stack

schema = schemathesis.openapi.from_path(ROOT / "docs/openapi.yaml")
# The coverage phase enumerates every boundary of every field (hundreds of requests, minutes on the
# local stack); the examples and fuzzing phases, positive and negative, keep the run under a minute.
schema.config.phases.coverage.enabled = False


def body_bytes(kwargs: dict[str, Any]) -> bytes:
    if "json" in kwargs:
        return json.dumps(kwargs.pop("json")).encode()
    data = kwargs.pop("data", None) or kwargs.pop("content", None) or b""
    return data.encode() if isinstance(data, str) else bytes(data)


def signed(path: str, url: str, body: bytes) -> dict[str, str]:
    if path == "/webhooks/crm/hubspot":
        return hubspot_headers(url, body)
    if path == "/webhooks/forms/typeform":
        return {
            "content-type": "application/json",
            "typeform-signature": sign_typeform(local_secrets()["TYPEFORM_SECRET"], body),
        }
    return standard_headers(body)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_webhook_api_conforms_to_its_description(case: schemathesis.Case, stack: LocalStack) -> None:
    kwargs = case.as_transport_kwargs(base_url=stack.api_url)
    body = body_bytes(kwargs)
    # The generated signature headers are replaced by real ones over the bytes actually sent.
    headers = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() not in _SIGNING_HEADERS}
    headers.update(signed(case.path, kwargs["url"], body))
    response = httpx.request(kwargs["method"], kwargs["url"], content=body, headers=headers, timeout=30)
    assert response.status_code < 500, response.text
    assert response.status_code != 401, f"signed request refused: {response.text}"
    # The checks about the request (negative data rejected, auth not ignored, missing headers) judge the
    # generated headers, which are replaced here: the properties of our refusals are in test_payload_properties.
    case.validate_response(response, checks=RESPONSE_CHECKS)


RESPONSE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
_SIGNING_HEADERS = {
    "content-type",
    "x-hubspot-signature-v3",
    "x-hubspot-request-timestamp",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "typeform-signature",
}


def test_an_unsigned_request_is_refused_with_the_documented_problem(stack: LocalStack) -> None:
    operation = schema["/webhooks/crm"]["POST"]
    response = httpx.post(stack.api_url + "/webhooks/crm", json={"account_id": "x"}, timeout=30)
    assert response.status_code == 401
    operation.validate_response(response)
    assert response.json()["error"]

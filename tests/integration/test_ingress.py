"""The CRM webhooks, end to end through the local HTTP API: every answer, and what is (not) stored."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from local.client import send_hubspot
from local.stack import LocalStack, local_secrets
from savedesk.integrations.signatures import sign_hubspot_v3
from tests.integration.conftest import (
    cancel_body,
    case_store,
    execution,
    load_event,
    post_standard,
    sign_standard,
    wait_for,
)

pytestmark = pytest.mark.stack


def hubspot_body(**overrides: Any) -> dict[str, Any]:
    body = load_event("crm-cancel-hubspot.json")
    body["hs_object_id"] = f"HS-{time.time_ns()}"
    body.update(overrides)
    return body


def post_hubspot(stack: LocalStack, payload: Any, *, raw: bytes | None = None, **sign: Any) -> httpx.Response:
    return send_hubspot(stack.api_url, raw if raw is not None else payload, **sign)


def execution_names(stack: LocalStack) -> set[str]:
    sfn = stack.client("stepfunctions")
    return {e["name"] for e in sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]}


def assert_nothing_stored(stack: LocalStack, account_id: str, executions_before: set[str]) -> None:
    assert case_store(stack).open_case_for_account(account_id) is None
    assert execution_names(stack) == executions_before


def test_signed_hubspot_cancel_opens_a_case_and_starts_its_workflow(stack: LocalStack) -> None:
    # Given a HubSpot workflow webhook signed with v3
    body = hubspot_body()
    # When it arrives
    response = post_hubspot(stack, body)
    # Then a case is opened and the workflow runs under the case's id
    assert response.status_code == 202, response.text
    case_id = response.json()["case_id"]
    assert response.json()["status"] == "OPEN"
    case = case_store(stack).get_case(case_id)
    assert case is not None
    assert case.account.account_id == body["hs_object_id"]
    assert case.account.company == "Acme Dental Group"
    assert str(case.account.mrr) == "4000.00"
    assert case.account.term_months == 6
    assert case.reasons.comments == [body["cancellation_reason"]]
    assert execution(stack, case_id)["name"] == case_id


def test_the_same_delivery_twice_is_one_case(stack: LocalStack) -> None:
    body = hubspot_body()
    first = post_hubspot(stack, body)
    # HubSpot's retry carries the same body (and a new timestamp, so a new signature)
    second = post_hubspot(stack, body)
    assert first.status_code == 202
    assert second.status_code == 200
    assert second.json()["case_id"] == first.json()["case_id"]
    assert second.json()["duplicate"] == "duplicate_delivery"
    cases = [c for c in case_store(stack).list_cases() if c.account.account_id == body["hs_object_id"]]
    assert len(cases) == 1


def test_a_second_cancel_for_an_account_with_an_open_case_points_at_it(stack: LocalStack) -> None:
    body = cancel_body()
    first = post_standard(stack, "/webhooks/crm", body)
    again = post_standard(stack, "/webhooks/crm", {**body, "cancellation_reason": "Clicked cancel twice"})
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json() == {"case_id": first.json()["case_id"], "status": "OPEN", "duplicate": "account_has_open_case"}


def test_standard_webhooks_cancel_opens_a_case(stack: LocalStack) -> None:
    response = post_standard(stack, "/webhooks/crm", cancel_body())
    assert response.status_code == 202, response.text
    assert response.json()["case_id"].startswith("case-")


@pytest.mark.parametrize(
    ("tamper", "error"),
    [
        (
            lambda headers, body: (
                headers | {"x-hubspot-signature-v3": "AAAA" + headers["x-hubspot-signature-v3"][4:]},
                body,
            ),
            "bad_signature",
        ),
        (lambda headers, body: (headers, body.replace(b"4000.00", b"1.00")), "bad_signature"),
        (
            lambda headers, body: ({k: v for k, v in headers.items() if k != "x-hubspot-signature-v3"}, body),
            "missing_header",
        ),
        (
            lambda headers, body: ({k: v for k, v in headers.items() if k != "x-hubspot-request-timestamp"}, body),
            "missing_header",
        ),
    ],
    ids=["forged-signature", "tampered-body", "no-signature", "no-timestamp"],
)
def test_hubspot_refusals_are_401_and_store_nothing(stack: LocalStack, tamper: Any, error: str) -> None:
    body = hubspot_body()
    raw = json.dumps(body).encode()
    url = stack.api_url + "/webhooks/crm/hubspot"
    ts = str(int(time.time() * 1000))
    headers = {
        "content-type": "application/json",
        "x-hubspot-request-timestamp": ts,
        "x-hubspot-signature-v3": sign_hubspot_v3(local_secrets()["HUBSPOT_CLIENT_SECRET"], "POST", url, raw, ts),
    }
    before = execution_names(stack)
    headers, raw = tamper(headers, raw)
    response = httpx.post(url, content=raw, headers=headers, timeout=30)
    assert response.status_code == 401
    assert response.json()["error"] == error
    assert response.json()["detail"]
    assert_nothing_stored(stack, body["hs_object_id"], before)


def test_stale_hubspot_timestamp_is_401(stack: LocalStack) -> None:
    body = hubspot_body()
    before = execution_names(stack)
    response = post_hubspot(stack, body, timestamp_ms=int((time.time() - 301) * 1000))
    assert response.status_code == 401
    assert response.json()["error"] == "stale_timestamp"
    assert_nothing_stored(stack, body["hs_object_id"], before)


def test_wrong_secret_and_stale_standard_webhooks_are_401(stack: LocalStack) -> None:
    body = cancel_body()
    before = execution_names(stack)
    wrong = post_standard(stack, "/webhooks/crm", body, secret="whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB")
    stale = post_standard(stack, "/webhooks/crm", body, timestamp=int(time.time()) - 301)
    assert (wrong.status_code, wrong.json()["error"]) == (401, "bad_signature")
    assert (stale.status_code, stale.json()["error"]) == (401, "stale_timestamp")
    assert_nothing_stored(stack, body["account_id"], before)


def test_malformed_json_is_400(stack: LocalStack) -> None:
    before = execution_names(stack)
    response = post_hubspot(stack, None, raw=b'{"hs_object_id": "X-1", "name": ')
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"
    assert execution_names(stack) == before


def test_invalid_fields_are_400_listing_them_by_the_crm_names(stack: LocalStack) -> None:
    body = hubspot_body(contact_email="not-an-email", mrr="lots")
    del body["name"]
    before = execution_names(stack)
    response = post_hubspot(stack, body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["error"] == "invalid_fields"
    assert {f["field"] for f in payload["fields"]} == {"contact_email", "mrr", "name"}
    assert_nothing_stored(stack, body["hs_object_id"], before)


def test_header_injection_in_a_name_is_refused(stack: LocalStack) -> None:
    body = cancel_body(contact_name="Dana\r\nBcc: everyone@example.com")
    response = post_standard(stack, "/webhooks/crm", body)
    assert response.status_code == 400
    assert [f["field"] for f in response.json()["fields"]] == ["contact_name"]


def test_wrong_content_type_is_415(stack: LocalStack) -> None:
    body = cancel_body()
    raw = json.dumps(body).encode()
    headers = sign_standard(raw) | {"content-type": "text/plain"}
    before = execution_names(stack)
    response = httpx.post(stack.api_url + "/webhooks/crm", content=raw, headers=headers, timeout=30)
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
    assert_nothing_stored(stack, body["account_id"], before)


def test_body_over_256_kb_is_413(stack: LocalStack) -> None:
    body = cancel_body(cancellation_reason="x" * (300 * 1024))
    response = post_standard(stack, "/webhooks/crm", body)
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert case_store(stack).open_case_for_account(body["account_id"]) is None


def test_start_execution_failure_is_503_and_nothing_half_stored(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    def throttled(*args: Any, **kwargs: Any) -> Any:
        raise JsonRESTError("ThrottlingException", "Rate exceeded")

    body = cancel_body()
    monkeypatch.setattr(StepFunctionsParserBackend, "start_execution", throttled)
    response = post_standard(stack, "/webhooks/crm", body, msg_id="msg_retry_me")
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert case_store(stack).open_case_for_account(body["account_id"]) is None
    assert case_store(stack).case_id_for_delivery("crm", "msg_retry_me") is None

    # And the sender's retry, once Step Functions is back, opens the case normally.
    monkeypatch.undo()
    retry = post_standard(stack, "/webhooks/crm", body, msg_id="msg_retry_me")
    assert retry.status_code == 202
    wait_for(lambda: execution(stack, retry.json()["case_id"]))


def test_dynamodb_failure_is_503_and_starts_nothing(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodb.models import DynamoDBBackend

    def throttled(*args: Any, **kwargs: Any) -> Any:
        raise JsonRESTError(
            "ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded",
        )

    body = cancel_body()
    before = execution_names(stack)
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", throttled)
    response = post_standard(stack, "/webhooks/crm", body)
    monkeypatch.undo()
    assert response.status_code == 503
    assert execution_names(stack) == before
    assert case_store(stack).open_case_for_account(body["account_id"]) is None


def test_a_route_that_does_not_exist_is_not_served(stack: LocalStack) -> None:
    response = httpx.post(stack.api_url + "/webhooks/nope", content=b"{}", timeout=10)
    assert response.status_code == 404

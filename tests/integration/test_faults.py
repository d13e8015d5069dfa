"""Faults from the vendors and DynamoDB, on the local stack: each effect happens at most once.

Faults are injected into the vendor stand-ins (`stack.faults`) and into moto's DynamoDB
backend. Each test asserts how many times the vendor acted and the state the case ends in.
Faults on the save path stop at the meeting wait (the leftover execution is stopped after
the test); offboarding faults run the case to its end.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from local.sandbox.app import Fault
from local.stack import LocalStack
from savedesk.models import Case, CaseStatus
from tests.integration.conftest import case_store, wait_for_execution_end
from tests.integration.test_rerun import (
    CLIENT_CHANNEL,
    SUBSCRIPTION_PATH,
    assert_failed_at_step_failed,
    execution_arn,
    offboard,
    ops_messages,
    reach_meeting_wait,
    record_cancel,
    step_invocations,
)
from tests.integration.test_save_path import start_case

pytestmark = pytest.mark.stack

AM_DM = "U0AM00001"
MEETING_TASKS = "/list/901200999/task"  # the account management list: the save meeting's task


def stripe_error(code: str, message: str, type_: str = "api_error") -> dict[str, Any]:
    return {"error": {"type": type_, "code": code, "message": message}}


def meeting_tasks(stack: LocalStack, case_id: str) -> list[dict[str, Any]]:
    tag = f"savedesk-{case_id}-meeting".lower()
    return [t for t in stack.vendor("clickup").tasks.values() if tag in t.get("tags", [])]


def assert_meeting_scheduled_once(stack: LocalStack, case_id: str, body: dict[str, Any]) -> None:
    """One invitation email, one brief to the account manager, one ClickUp task: the save meeting's effects."""
    invitations = [m for m in stack.sent_emails() if body["contact_email"] in m["To"] and "30 minutes" in m["Subject"]]
    assert len(invitations) == 1
    assert len(stack.vendor("slack").messages(AM_DM)) == 1
    assert len(meeting_tasks(stack, case_id)) == 1


# -- Slack --------------------------------------------------------------------------------------


def test_slack_429_with_retry_after_waits_in_process_and_posts_once(stack: LocalStack) -> None:
    # Given Slack rate-limits the next post for one second
    stack.faults.add(
        Fault("slack", "chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, headers={"Retry-After": "1"})
    )
    # When a case reaches ScheduleSaveMeeting
    case_id, body = reach_meeting_wait(stack)

    # Then the client waited inside the same invocation and the brief was posted once
    assert [c["status"] for c in stack.calls.of("slack", "chat.postMessage")] == [429, 200]
    assert len(step_invocations(stack, "ScheduleSaveMeeting", case_id)) == 1
    assert_meeting_scheduled_once(stack, case_id, body)


def test_slack_timeout_is_transient_and_retried_by_the_workflow(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a short client timeout (production's stays 10 s) and a Slack that answers too late once
    import savedesk.integrations.slack as slack_module

    monkeypatch.setattr(slack_module, "DEFAULT_TIMEOUT", httpx.Timeout(0.5))
    stack.faults.add(Fault("slack", "chat.postMessage", 503, {"ok": False}, delay_seconds=1.5))

    # When a case reaches ScheduleSaveMeeting
    case_id, body = reach_meeting_wait(stack)

    # Then the step failed once with a timeout, the workflow retried it, and the brief went out once
    invocations = step_invocations(stack, "ScheduleSaveMeeting", case_id)
    assert [i.get("error") for i in invocations] == ["TransientError", None]
    assert_meeting_scheduled_once(stack, case_id, body)


def test_malformed_vendor_response_is_transient_and_retried(stack: LocalStack) -> None:
    # Given Slack answers the next post 200 with an HTML page instead of JSON (and posts nothing)
    stack.faults.add(Fault("slack", "chat.postMessage", 200, "<html><body>Bad gateway</body></html>"))

    # When a case reaches ScheduleSaveMeeting
    case_id, body = reach_meeting_wait(stack)

    # Then the workflow retried the step and the brief went out once
    invocations = step_invocations(stack, "ScheduleSaveMeeting", case_id)
    assert [i.get("error") for i in invocations] == ["TransientError", None]
    assert_meeting_scheduled_once(stack, case_id, body)


def test_slack_channel_not_found_is_permanent_and_ops_are_told(stack: LocalStack) -> None:
    # Given a case waiting for its meeting, and Slack refusing the next post with channel_not_found
    case_id, _ = reach_meeting_wait(stack)
    posts_before = len(stack.calls.of("slack", "chat.postMessage"))
    stack.faults.add(
        Fault("slack", "chat.postMessage", 200, {"ok": False, "error": "channel_not_found"}, method="POST")
    )

    # When the account manager records "cancel"
    record_cancel(stack, case_id)

    # Then DocumentCancellationReasons ran once (no retry), ops were told, the case is FAILED
    assert_failed_at_step_failed(
        stack, execution_arn(stack, case_id), step="DocumentCancellationReasons", error="VendorError", case_id=case_id
    )
    assert len(step_invocations(stack, "DocumentCancellationReasons", case_id)) == 1
    assert any("channel_not_found" in m for m in ops_messages(stack))
    # The refused notes and the ops alert: two posts, and nothing in the client's channel
    assert len(stack.calls.of("slack", "chat.postMessage")) == posts_before + 2
    assert stack.vendor("slack").messages(CLIENT_CHANNEL) == []


# -- 5xx and lost responses -------------------------------------------------------------------


def test_vendor_503_twice_is_retried_by_the_workflow_and_acts_once(stack: LocalStack) -> None:
    # Given ClickUp answers 503 to the next two calls on the account management list
    stack.faults.add(Fault("clickup", MEETING_TASKS, 503, {"err": "Service unavailable", "ECODE": "SRV_001"}, times=2))

    # When a case reaches ScheduleSaveMeeting
    case_id, body = reach_meeting_wait(stack)

    # Then the workflow's Retry ran the step three times, and each effect happened once
    invocations = step_invocations(stack, "ScheduleSaveMeeting", case_id)
    assert [i.get("error") for i in invocations] == ["TransientError", "TransientError", None]
    assert_meeting_scheduled_once(stack, case_id, body)


def test_clickup_task_created_but_response_lost_is_found_by_tag(stack: LocalStack) -> None:
    # Given ClickUp creates the next task but the answer is lost (502 on the way back)
    stack.faults.add(
        Fault("clickup", MEETING_TASKS, 502, {"err": "Bad gateway", "ECODE": "GW_001"}, method="POST", when="after")
    )

    # When a case reaches ScheduleSaveMeeting
    case_id, body = reach_meeting_wait(stack)

    # Then the retry found the task by its tag instead of creating a second one
    assert len(stack.calls.of("clickup", MEETING_TASKS, method="POST")) == 1
    assert len(step_invocations(stack, "ScheduleSaveMeeting", case_id)) == 2
    assert_meeting_scheduled_once(stack, case_id, body)
    recorded = case_store(stack).get_step(case_id, "ScheduleSaveMeeting")["effects"]["clickup:meeting_task"]
    assert recorded == {"done": True, "value": meeting_tasks(stack, case_id)[0]["id"]}


def test_stripe_update_done_but_response_lost_is_replayed_with_the_same_key(stack: LocalStack) -> None:
    # Given Stripe sets the subscription to end but the answer is lost (500 on the way back)
    stack.faults.add(
        Fault(
            "stripe",
            SUBSCRIPTION_PATH,
            500,
            stripe_error("internal", "An unknown error occurred"),
            method="POST",
            when="after",
        )
    )

    # When a case is offboarded
    case_id, _, ended = offboard(stack)

    # Then the retry sent the same Idempotency-Key, Stripe replayed its stored answer, and the case closed
    assert ended["status"] == "SUCCEEDED"
    posts = stack.calls.of("stripe", SUBSCRIPTION_PATH, method="POST")
    assert [c["status"] for c in posts] == [500, 200]
    keys = {c["headers"].get("Idempotency-Key") for c in posts}
    assert len(keys) == 1 and None not in keys
    (key,) = keys
    assert key in stack.vendor("stripe").idempotency  # stored by the first call, replayed to the second
    assert len(step_invocations(stack, "CompleteBillingRequest", case_id)) == 2
    assert case_store(stack).get_case(case_id).status == CaseStatus.CLOSED


# -- auth ---------------------------------------------------------------------------------------


def test_expired_stripe_key_is_permanent_and_ops_are_told(stack: LocalStack) -> None:
    # Given Stripe refuses the API key (expired)
    stack.faults.add(
        Fault(
            "stripe",
            "/v1/subscriptions",
            401,
            stripe_error("api_key_expired", "Expired API Key provided: sk_test_****", "invalid_request_error"),
        )
    )

    # When a case is offboarded
    case_id, _, _ = offboard(stack)

    # Then CompleteBillingRequest was not retried, ops were told, and the case is FAILED
    assert_failed_at_step_failed(
        stack, execution_arn(stack, case_id), step="CompleteBillingRequest", error="VendorError", case_id=case_id
    )
    assert len(step_invocations(stack, "CompleteBillingRequest", case_id)) == 1
    assert len(stack.calls.of("stripe", "/v1/subscriptions")) == 1
    assert any("api_key_expired" in m for m in ops_messages(stack))


# -- DynamoDB -----------------------------------------------------------------------------------


def test_concurrent_case_writer_loses_no_update(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    comment = "Survey: moving in-house next quarter."
    raced: list[str] = []

    def racing(backend: Any, transact_items: list[dict[str, Any]]) -> Any:
        # When ReviewContractTerms saves its review, the exit survey has just written the case first.
        doc = _case_doc(transact_items)
        if doc is not None and not raced and doc.get("contract_review"):
            raced.append(doc["case_id"])
            case_store(stack).update_case(doc["case_id"], with_comment(comment))
        return original(backend, transact_items)

    # Given a concurrent writer that saves the case between the step's read and its write
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", racing)

    # When a case runs its first steps
    case_id, _ = reach_meeting_wait(stack)
    monkeypatch.undo()

    # Then the step's optimistic lock lost, it re-read the case, and both updates are on it
    assert raced == [case_id]
    case = case_store(stack).get_case(case_id)
    assert case.contract_review is not None
    assert comment in case.reasons.comments
    assert len(step_invocations(stack, "ReviewContractTerms", case_id)) == 1  # settled in the step itself


def test_dynamodb_throttling_in_a_step_is_retried_and_acts_once(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodb.models import DynamoDBBackend

    from savedesk import wiring

    original = DynamoDBBackend.update_item
    throttled: list[str] = []

    def throttle_once(backend: Any, *args: Any, **kwargs: Any) -> Any:
        key = kwargs.get("key") or (args[1] if len(args) > 1 else {})
        if not throttled and "STEP#AcknowledgeCancellationRequest" in json.dumps(key, default=str):
            throttled.append("start_step")
            raise JsonRESTError("ProvisionedThroughputExceededException", "Throughput exceeds the current capacity")
        return original(backend, *args, **kwargs)

    # Given the SDK's own retries are spent (one attempt), and DynamoDB throttles the step's first write
    store = wiring.store()
    monkeypatch.setattr(store, "client", _client_without_retries(stack))
    monkeypatch.setattr(DynamoDBBackend, "update_item", throttle_once)

    # When a case starts
    case_id, body = reach_meeting_wait(stack)
    monkeypatch.undo()

    # Then the step failed with StoreError, the workflow retried it, and one acknowledgement went out
    assert throttled == ["start_step"]
    invocations = step_invocations(stack, "AcknowledgeCancellationRequest", case_id)
    assert [i.get("error") for i in invocations] == ["StoreError", None]
    acks = [m for m in stack.sent_emails() if body["contact_email"] in m["To"] and "received" in m["Subject"]]
    assert len(acks) == 1


# -- helpers --------------------------------------------------------------------------------------


def _case_doc(transact_items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The case document a transaction writes, if it writes one."""
    for item in transact_items:
        put = item.get("Put", {}).get("Item", {})
        if put.get("sk", {}).get("S") == "CASE" and "doc" in put:
            return json.loads(put["doc"]["S"])
    return None


def with_comment(comment: str) -> Any:
    def change(case: Case) -> Case:
        reasons = case.reasons.model_copy(update={"comments": [*case.reasons.comments, comment]})
        return case.model_copy(update={"reasons": reasons})

    return change


def _client_without_retries(stack: LocalStack) -> Any:
    import boto3
    from botocore.config import Config

    from local.template import REGION

    return boto3.session.Session(region_name=REGION).client(
        "dynamodb", endpoint_url=stack.aws_url, config=Config(retries={"total_max_attempts": 1})
    )


def test_send_without_a_key_cut_off_before_its_result_is_repeated_at_most_once(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodb.models import DynamoDBBackend

    from savedesk import wiring

    original = DynamoDBBackend.update_item
    lost: list[str] = []

    def lose_results(backend: Any, *args: Any, **kwargs: Any) -> Any:
        # The acknowledgement's result record fails every time: as if the Lambda died right after the send.
        call = json.dumps([args, kwargs], default=str)
        if "STEP#AcknowledgeCancellationRequest" in call and '\\"done\\": true' in call:
            lost.append("result")
            raise JsonRESTError("ProvisionedThroughputExceededException", "Throughput exceeds the current capacity")
        return original(backend, *args, **kwargs)

    # Given SES has no idempotency key, and the step can never record that its email went out
    monkeypatch.setattr(wiring.store(), "client", _client_without_retries(stack))
    monkeypatch.setattr(DynamoDBBackend, "update_item", lose_results)

    # When a case starts
    case_id, body = start_case(stack)
    ended = wait_for_execution_end(stack, case_id)
    monkeypatch.undo()

    # Then the send was repeated once after the first cut-off, then the step stopped and asked a person
    assert ended["status"] == "FAILED"
    assert lost == ["result", "result"]
    acks = [m for m in stack.sent_emails() if body["contact_email"] in m["To"] and "received" in m["Subject"]]
    assert len(acks) == 2
    invocations = step_invocations(stack, "AcknowledgeCancellationRequest", case_id)
    assert [i.get("error") for i in invocations] == ["StoreError", "StoreError", "PermanentError"]
    assert any(case_id in m and "AcknowledgeCancellationRequest" in m for m in ops_messages(stack))
    assert case_store(stack).get_case(case_id).status == CaseStatus.FAILED

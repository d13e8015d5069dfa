"""One embedded local stack for the integration tests, on free ports, with short waits."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.client import send_standard, standard_headers
from local.client import wait_for as poll
from local.stack import LocalStack, Ports
from local.template import ROOT

EVENTS = ROOT / "events"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    state_dir = tmp_path_factory.mktemp("local-stack")
    local = LocalStack(
        ports=Ports.free(),
        state_dir=Path(state_dir),
        # Short waits so the reminder / escalation / timeout paths run in seconds.
        parameter_overrides={"MeetingReminderAfterSeconds": "4", "MeetingEscalateAfterSeconds": "4"},
    )
    local.start()
    from savedesk import wiring

    wiring.reset()
    yield local
    local.stop()


@pytest.fixture(autouse=True)
def fresh_vendors(request: pytest.FixtureRequest) -> None:
    if "stack" in request.fixturenames:
        request.getfixturevalue("stack").reset_sandbox()


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def cancel_body(**overrides: Any) -> dict[str, Any]:
    """The demo client's Standard-Webhooks CRM body with a unique account id (no open-case clash)."""
    body = load_event("crm-cancel-standard.json")
    unique = uuid.uuid4().hex[:8]
    body["account_id"] = f"ACME-{unique}"
    # A unique inbox per test, so a test reads its own emails only.
    body["contact_email"] = f"dana+{unique}@acme-dental.example"
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def sign_standard(body: bytes, **sign: Any) -> dict[str, str]:
    return standard_headers(body, **sign)


def post_standard(stack: LocalStack, path: str, payload: Any, **sign: Any) -> httpx.Response:
    return send_standard(stack.api_url, path, payload, **sign)


def open_case(stack: LocalStack, **overrides: Any) -> str:
    response = post_standard(stack, "/webhooks/crm", cancel_body(**overrides))
    assert response.status_code == 202, response.text
    return str(response.json()["case_id"])


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1, what: str = "") -> Any:
    """`local.client.wait_for`, failing the test when it times out."""
    try:
        return poll(predicate, timeout, what or repr(predicate), interval)
    except TimeoutError as timed_out:
        raise AssertionError(str(timed_out)) from None


def case_store(stack: LocalStack) -> Any:
    from savedesk.store import CaseStore

    return CaseStore(os.environ["CASES_TABLE"], client=stack.client("dynamodb"))


def execution(stack: LocalStack, case_id: str) -> dict[str, Any]:
    sfn = stack.client("stepfunctions")
    arn = stack.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{case_id}"
    return sfn.describe_execution(executionArn=arn)


def wait_for_execution_end(stack: LocalStack, case_id: str, timeout: float = 60.0) -> dict[str, Any]:
    return wait_for(
        lambda: (e := execution(stack, case_id))["status"] != "RUNNING" and e,
        timeout,
        what=f"execution {case_id} to end",
    )


def history(stack: LocalStack, case_id: str) -> list[dict[str, Any]]:
    sfn = stack.client("stepfunctions")
    arn = stack.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{case_id}"
    return sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]


def entered_states(stack: LocalStack, case_id: str) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in history(stack, case_id) if "stateEnteredEventDetails" in e]


def wait_for_token(stack: LocalStack, case_id: str, kind: str = "meeting", timeout: float = 30.0) -> str:
    store = case_store(stack)
    return wait_for(lambda: store.peek_task_token(case_id, kind), timeout, what=f"{kind} token of {case_id}")


def emails_to(stack: LocalStack, address: str) -> list[Any]:
    return [m for m in stack.sent_emails() if address in (m.get("To") or "")]


@pytest.fixture(autouse=True)
def stop_leftover_executions(request: pytest.FixtureRequest) -> Iterator[None]:
    """Workflows a test leaves waiting are stopped, so they don't run on (and slow down) later tests."""
    yield
    if "stack" not in request.fixturenames:
        return
    local = request.getfixturevalue("stack")
    sfn = local.client("stepfunctions")
    for item in sfn.list_executions(stateMachineArn=local.state_machine_arn, statusFilter="RUNNING")["executions"]:
        sfn.stop_execution(executionArn=item["executionArn"], error="TestFinished")

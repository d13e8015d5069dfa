"""Ops re-runs on the local stack: a new execution with the documented re-run input.

`events/rerun-step.json` is what ops paste into the Step Functions console's *Start execution*
(with a new execution name). A finished step replays its recorded result unless the input
forces that step; a failed step, re-run after its data was fixed, does its work once, and the
steps around it keep their recorded effects. moto has no RedriveExecution, so the re-run input
for the failed step stands in for a redrive here (the README has the console procedure).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import pytest

from local.stack import LocalStack
from savedesk.models import Case, CaseStatus
from tests.integration.conftest import (
    case_store,
    load_event,
    post_standard,
    wait_for,
    wait_for_execution_end,
    wait_for_token,
)
from tests.integration.test_save_path import outcome, start_case

pytestmark = pytest.mark.stack

OPS_CHANNEL = "C0OPS00001"
CLIENT_CHANNEL = "C0ACME0001"
SUBSCRIPTION_PATH = "/stripe/v1/subscriptions/sub_"


# -- helpers the fault tests share ----------------------------------------------------------


SMALL_FOLDER_ID = "90139999"
SMALL_LIST_ID = "901399991"


def small_client_workspace(stack: LocalStack) -> str:
    """A client folder with three open ClickUp tasks; returns its id.

    The demo client's folder has 122 open tasks, whose close-out takes most of an offboarding's
    time on the local stack; these tests are about other things.
    """
    from local.sandbox.clickup import CLIENT_SPACE_ID

    clickup = stack.vendor("clickup")
    clickup.add_folder(SMALL_FOLDER_ID, "Acme Dental Group (small)", CLIENT_SPACE_ID)
    clickup.add_list(SMALL_LIST_ID, "Retainer", space_id=CLIENT_SPACE_ID, folder_id=SMALL_FOLDER_ID)
    for name in ("Monthly report", "Landing page refresh", "Review responses"):
        clickup.add_task(SMALL_LIST_ID, name, tags=["acme-dental"])
    return SMALL_FOLDER_ID


def reach_meeting_wait(stack: LocalStack, **overrides: Any) -> tuple[str, dict[str, Any]]:
    """A new case (of a client with a small ClickUp folder) whose workflow waits for the meeting outcome."""
    overrides.setdefault("clickup_folder_id", small_client_workspace(stack))
    case_id, body = start_case(stack, **overrides)
    wait_for_token(stack, case_id)
    return case_id, body


def record_cancel(stack: LocalStack, case_id: str) -> None:
    response = post_standard(stack, "/webhooks/forms", outcome(case_id, "form-meeting-outcome-cancel.json"))
    assert response.status_code == 200, response.text


def offboard(stack: LocalStack, **overrides: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A case taken through the save meeting ("cancel") and the whole offboarding: (case id, body, execution)."""
    case_id, body = reach_meeting_wait(stack, **overrides)
    record_cancel(stack, case_id)
    return case_id, body, wait_for_execution_end(stack, case_id, timeout=90)


def rerun_input(case_id: str, step: str | None, *, force: bool = False) -> dict[str, Any]:
    """The documented re-run input, as ops would fill it in (None: a plain input with the case id only)."""
    if step is None:
        return {"case_id": case_id}
    return load_event("rerun-step.json") | {"case_id": case_id, "rerun": [step], "force": force}


def start_execution(stack: LocalStack, payload: dict[str, Any]) -> str:
    """Start the state machine as ops do in the console: a new execution name, the given input."""
    name = f"{payload.get('case_id', 'case')}-rerun-{uuid.uuid4().hex[:8]}"
    response = stack.client("stepfunctions").start_execution(
        stateMachineArn=stack.state_machine_arn, name=name, input=json.dumps(payload)
    )
    return str(response["executionArn"])


def wait_for_end(stack: LocalStack, arn: str, timeout: float = 60.0) -> dict[str, Any]:
    sfn = stack.client("stepfunctions")
    return wait_for(
        lambda: (e := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and e,
        timeout,
        what=f"execution {arn} to end",
    )


def events_of(stack: LocalStack, arn: str) -> list[dict[str, Any]]:
    sfn = stack.client("stepfunctions")
    return sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]


def states_of(stack: LocalStack, arn: str) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in events_of(stack, arn) if "stateEnteredEventDetails" in e]


def execution_arn(stack: LocalStack, case_id: str) -> str:
    """The ARN of the case's own execution (named after the case)."""
    return stack.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{case_id}"


def step_invocations(stack: LocalStack, step_function: str, case_id: str) -> list[dict[str, Any]]:
    """Invocations of one step's Lambda for one case (`step_function`: e.g. "ConfirmClosure")."""
    name = f"savedesk-{step_function}Function"
    return [i for i in stack.lambdas.invocations if i["function"] == name and i["event"].get("case_id") == case_id]


def ops_messages(stack: LocalStack) -> list[str]:
    return [json.dumps(m) for m in stack.vendor("slack").messages(OPS_CHANNEL)]


@dataclass
class Mark:
    """A point in time: vendor calls and emails counted from here on."""

    stack: LocalStack
    calls: int = field(init=False)
    emails: int = field(init=False)

    def __post_init__(self) -> None:
        self.calls = len(self.stack.calls.calls)
        self.emails = len(self.stack.sent_emails())

    def new_calls(self) -> list[dict[str, Any]]:
        return list(self.stack.calls.calls[self.calls :])

    def new_emails(self) -> list[Message]:
        return self.stack.sent_emails()[self.emails :]


def effects_of_completed_steps(stack: LocalStack, case_id: str) -> dict[str, dict[str, Any]]:
    return {
        step: record["effects"]
        for step, record in case_store(stack).steps(case_id).items()
        if record["status"] == "COMPLETED"
    }


def assert_failed_at_step_failed(stack: LocalStack, arn: str, *, step: str, error: str, case_id: str) -> None:
    """The execution ended FAILED at StepFailed; ops heard of the case, the step and the error; the case is FAILED."""
    ended = wait_for_end(stack, arn)
    assert ended["status"] == "FAILED"
    assert ended.get("error") == "StepFailed"
    states = states_of(stack, arn)
    assert states[-2:] == ["NotifyOpsOfFailure", "StepFailed"], states
    told = [m for m in ops_messages(stack) if case_id in m and step in m and error in m]
    assert len(told) == 1, ops_messages(stack)
    case = case_store(stack).get_case(case_id)
    assert case is not None and case.status == CaseStatus.FAILED


# -- re-running a finished step ---------------------------------------------------------------


def test_rerun_of_a_finished_step_without_force_replays_it(stack: LocalStack) -> None:
    # Given a case offboarded to the end
    case_id, body, first = offboard(stack)
    assert first["status"] == "SUCCEEDED"
    recorded = effects_of_completed_steps(stack, case_id)
    mark = Mark(stack)

    # When ops start the re-run input for ConfirmClosure without force
    arn = start_execution(stack, rerun_input(case_id, "ConfirmClosure", force=False))

    # Then it runs from ConfirmClosure to Closed, and every step replays its recorded result
    assert wait_for_end(stack, arn)["status"] == "SUCCEEDED"
    states = states_of(stack, arn)
    assert states[:2] == ["RouteRequest", "ConfirmClosure"] and states[-1] == "Closed", states
    assert mark.new_emails() == []
    assert mark.new_calls() == []
    assert effects_of_completed_steps(stack, case_id) == recorded
    assert case_store(stack).get_case(case_id).status == CaseStatus.CLOSED


def test_forced_rerun_repeats_that_step_only(stack: LocalStack) -> None:
    # Given a case offboarded to the end, with one closure confirmation sent
    case_id, body, _ = offboard(stack)
    address = body["contact_email"]
    confirmations = [m for m in stack.sent_emails() if address in m["To"] and "closed" in m["Subject"].lower()]
    assert len(confirmations) == 1, [m["Subject"] for m in stack.sent_emails() if address in m["To"]]
    runs_before = case_store(stack).get_step(case_id, "ConfirmClosure")["runs"]
    mark = Mark(stack)

    # When ops force a re-run of ConfirmClosure
    arn = start_execution(stack, rerun_input(case_id, "ConfirmClosure", force=True))

    # Then exactly one more closure confirmation goes to the client, and no other step acts
    assert wait_for_end(stack, arn)["status"] == "SUCCEEDED"
    new = mark.new_emails()
    assert [m["Subject"] for m in new] == [confirmations[0]["Subject"]]
    assert address in new[0]["To"]
    assert mark.new_calls() == []
    assert case_store(stack).get_step(case_id, "ConfirmClosure")["runs"] == runs_before + 1
    assert case_store(stack).get_case(case_id).status == CaseStatus.CLOSED


def test_new_execution_for_a_closed_case_replays_the_whole_checklist(stack: LocalStack) -> None:
    # Given a case offboarded to the end
    case_id, _, _ = offboard(stack)
    recorded = effects_of_completed_steps(stack, case_id)
    mark = Mark(stack)

    # When ops start a brand-new execution with only the case id
    arn = start_execution(stack, rerun_input(case_id, None))

    # Then it walks the whole checklist, including the meeting wait (the recorded outcome resumes it
    # at once), and no step repeats an effect
    ended = wait_for_end(stack, arn, timeout=30)
    assert ended["status"] == "SUCCEEDED", ended
    states = states_of(stack, arn)
    for state in ("AcknowledgeCancellationRequest", "WaitForMeetingOutcome", "DocumentCancellationReasons", "Offboard"):
        assert state in states, states
    assert states[-1] == "Closed"
    assert "SendMeetingReminder" not in states  # resumed, not timed out
    assert mark.new_emails() == []
    assert mark.new_calls() == []
    assert effects_of_completed_steps(stack, case_id) == recorded
    assert case_store(stack).get_case(case_id).status == CaseStatus.CLOSED


def test_unknown_step_name_ends_in_unknown_rerun_step(stack: LocalStack) -> None:
    # Given a case waiting for its meeting
    case_id, _ = reach_meeting_wait(stack)
    mark = Mark(stack)

    # When ops misspell the step in the re-run input
    arn = start_execution(stack, rerun_input(case_id, "ConfirmClosur"))

    # Then the execution fails at once at UnknownRerunStep, having run nothing
    ended = wait_for_end(stack, arn)
    assert ended["status"] == "FAILED"
    assert ended.get("error") == "UnknownRerunStep"
    assert states_of(stack, arn) == ["RouteRequest", "UnknownRerunStep"]
    assert mark.new_calls() == [] and mark.new_emails() == []


# -- re-running a failed step after fixing its data (redrive-safety) ----------------------------


def test_missing_billing_customer_fails_then_rerun_after_the_fix_closes_the_case(stack: LocalStack) -> None:
    # Given a client without a Stripe customer on file, offboarded
    case_id, body, first = offboard(stack, billing_customer_id=None)

    # Then CompleteBillingRequest fails permanently: ops are told, the case is FAILED, the execution redrivable
    assert_failed_at_step_failed(
        stack, execution_arn(stack, case_id), step="CompleteBillingRequest", error="MissingClientData", case_id=case_id
    )
    assert len(step_invocations(stack, "CompleteBillingRequest", case_id)) == 1  # a permanent error: no retry
    assert stack.calls.of("stripe", SUBSCRIPTION_PATH, method="POST") == []
    before = effects_of_completed_steps(stack, case_id)
    assert "DocumentCancellationReasons" in before

    # When ops add the customer id and start the re-run input for the failed step
    case_store(stack).update_case(case_id, with_account(billing_customer_id="cus_AcmeDental01"))
    mark = Mark(stack)
    arn = start_execution(stack, rerun_input(case_id, "CompleteBillingRequest"))

    # Then billing stops once, the steps that had finished keep their effects, and the case closes
    assert wait_for_end(stack, arn, timeout=60)["status"] == "SUCCEEDED"
    assert len(stack.calls.of("stripe", SUBSCRIPTION_PATH, method="POST")) == 1
    after = effects_of_completed_steps(stack, case_id)
    assert {step: after[step] for step in before} == before
    new_calls = mark.new_calls()
    assert not [c for c in new_calls if c["vendor"] == "topline"]  # its branch had finished
    closes = [c["path"] for c in stack.calls.of("clickup", "/task/", method="PUT")]
    assert len(closes) == len(set(closes)) == 3  # every task closed, none twice
    assert len(stack.calls.of("clickup", "/list/901200777/task", method="POST")) == 1  # one ads task
    assert len(stack.vendor("slack").messages(CLIENT_CHANNEL)) == 1  # the cancellation notes, once
    subjects = [m["Subject"] for m in mark.new_emails() if body["contact_email"] in m["To"]]
    assert not any("received your cancellation" in s for s in subjects)  # the acknowledgement is not repeated
    assert case_store(stack).get_case(case_id).status == CaseStatus.CLOSED


def test_unknown_slack_channel_fails_then_rerun_after_the_fix_posts_the_notes_once(stack: LocalStack) -> None:
    # Given a client whose Slack channel on file does not exist (Slack answers channel_not_found)
    case_id, body, _ = offboard(stack, slack_channel="C0GONE0001")

    # Then DocumentCancellationReasons fails permanently and nothing of the offboarding ran
    assert_failed_at_step_failed(
        stack,
        execution_arn(stack, case_id),
        step="DocumentCancellationReasons",
        error="VendorError",
        case_id=case_id,
    )
    assert len(step_invocations(stack, "DocumentCancellationReasons", case_id)) == 1
    assert stack.calls.of("stripe", SUBSCRIPTION_PATH, method="POST") == []
    meeting_effects = case_store(stack).get_step(case_id, "ScheduleSaveMeeting")["effects"]

    # When ops fix the channel and start the re-run input for the failed step
    case_store(stack).update_case(case_id, with_account(slack_channel=CLIENT_CHANNEL))
    mark = Mark(stack)
    arn = start_execution(stack, rerun_input(case_id, "DocumentCancellationReasons"))

    # Then the notes are posted once, the offboarding runs once, and the save path is not repeated
    assert wait_for_end(stack, arn, timeout=60)["status"] == "SUCCEEDED"
    assert len(stack.vendor("slack").messages(CLIENT_CHANNEL)) == 1
    assert len(stack.calls.of("stripe", SUBSCRIPTION_PATH, method="POST")) == 1
    assert case_store(stack).get_step(case_id, "ScheduleSaveMeeting")["effects"] == meeting_effects
    assert not [c for c in mark.new_calls() if c["vendor"] == "clickup" and "/list/901200999/task" in c["path"]]
    assert case_store(stack).get_case(case_id).status == CaseStatus.CLOSED


def with_account(**changes: Any) -> Any:
    def change(case: Case) -> Case:
        return case.model_copy(update={"account": case.account.model_copy(update=changes)})

    return change

"""The ops CLI against the local stack: a saved and an offboarded case, listed, shown, re-run, reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local.stack import LocalStack
from savedesk import cli
from tests.integration.conftest import (
    case_store,
    load_event,
    open_case,
    post_standard,
    wait_for,
    wait_for_execution_end,
    wait_for_token,
)

pytestmark = pytest.mark.stack


def ops(stack: LocalStack, capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    """Run the CLI in-process against the stack's endpoint and return its JSON output."""
    capsys.readouterr()
    code = cli.main([*argv, "--endpoint-url", stack.aws_url, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def decide(stack: LocalStack, case_id: str, event: str) -> dict[str, Any]:
    wait_for_token(stack, case_id)
    response = post_standard(stack, "/webhooks/forms", load_event(event) | {"case_id": case_id})
    assert response.status_code == 200, response.text
    return wait_for_execution_end(stack, case_id, timeout=90)


@pytest.fixture
def two_cases(stack: LocalStack) -> tuple[str, str]:
    # Closing the demo client's 90-odd ClickUp tasks takes more calls than the stand-in's per-minute
    # limit allows (as in `make demo`); the limit itself has its own contract test.
    stack.vendor("clickup").rate_limit = 1000
    saved = open_case(stack)
    assert decide(stack, saved, "form-meeting-outcome-saved.json")["status"] == "SUCCEEDED"
    offboarded = open_case(stack)
    assert decide(stack, offboarded, "form-meeting-outcome-cancel.json")["status"] == "SUCCEEDED"
    return saved, offboarded


def test_the_cli_on_the_local_stack(
    stack: LocalStack, two_cases: tuple[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    saved, offboarded = two_cases

    # cases: both listed with their final status and last step
    listed = {row["case_id"]: row for row in ops(stack, capsys, "cases", "--limit", "500")}
    assert listed[saved]["status"] == "SAVED" and listed[saved]["last_step"] == "RecordSave"
    assert listed[offboarded]["status"] == "CLOSED" and listed[offboarded]["last_step"] == "CloseCase"
    closed = ops(stack, capsys, "cases", "--status", "CLOSED", "--limit", "500")
    assert offboarded in {row["case_id"] for row in closed} and saved not in {row["case_id"] for row in closed}

    # show: the timeline carries the vendors' ids
    shown = ops(stack, capsys, "show", offboarded)
    assert shown["case"]["status"] == "CLOSED" and shown["case"]["meeting_outcome"] == "cancel"
    ids = {step: entry["ids"] for entry in shown["timeline"] if (step := entry["step"]) and entry["ids"]}
    assert any(i.startswith("SES ") for i in ids["AcknowledgeCancellationRequest"])
    assert any(i.startswith("Slack ") for i in ids["DocumentCancellationReasons"])
    assert any(i.startswith("ClickUp task ") for i in ids["PauseAdCampaigns"])
    assert any(i.startswith("Stripe subscription ") for i in ids["CompleteBillingRequest"])
    assert any(i.startswith("ClickUp closed ") for i in ids["CloseClickUpProjects"])
    assert any(i.startswith("Mailfold order ") for i in ids["SendThankYouNote"])
    assert shown["timeline"][0]["kind"] == "case_opened"

    # rerun (not forced): a new execution that replays ConfirmClosure and what follows, sending nothing
    emails_before = len(stack.sent_emails())
    runs_before = case_store(stack).steps(offboarded)["ConfirmClosure"]["runs"]
    started = ops(stack, capsys, "rerun", offboarded, "ConfirmClosure")
    sfn = stack.client("stepfunctions")
    arn = started["execution_arn"]
    assert started["name"].startswith(f"{offboarded}-rerun-ConfirmClosure-")
    execution = wait_for(
        lambda: (e := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and e,
        timeout=60,
        what="the re-run to end",
    )
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["input"]) == {"case_id": offboarded, "rerun": ["ConfirmClosure"], "force": False}
    history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert entered[:2] == ["RouteRequest", "ConfirmClosure"] and "Offboard" not in entered
    outputs = [
        json.loads(e["lambdaFunctionSucceededEventDetails"]["output"])
        for e in history
        if "lambdaFunctionSucceededEventDetails" in e
    ]
    assert [o["step"] for o in outputs] == [
        "ConfirmClosure",
        "SendThankYouNote",
        "AnalyseFeedback",
        "ScheduleTeamDebrief",
        "CloseCase",
    ]
    assert all(o["replayed"] for o in outputs), outputs
    assert len(stack.sent_emails()) == emails_before, "a non-forced re-run sent email"
    assert case_store(stack).steps(offboarded)["ConfirmClosure"]["runs"] == runs_before

    # an unknown step is refused before anything starts
    assert cli.main(["rerun", offboarded, "NoSuchStep", "--endpoint-url", stack.aws_url]) == 1
    assert "cannot be re-run" in capsys.readouterr().err

    # report: the dashboard file
    out = tmp_path / "dashboard.html"
    summary = ops(stack, capsys, "report", "--out", str(out))
    assert summary["path"] == str(out.resolve()) and summary["saved"] >= 1 and summary["cancelled"] >= 1
    assert out.read_text().count("<svg") >= 4

    # digest: rendered from the store, then sent once to the owner through the stack's SES
    digest = ops(stack, capsys, "digest")
    assert digest["subject"].startswith("SaveDesk weekly (") and "Acme Dental Group" not in digest["subject"]
    assert "LAST 7 DAYS" in digest["text"]
    sent = ops(stack, capsys, "digest", "--send")
    assert sent["sent"] is True
    owner_mail = [m for m in stack.sent_emails() if m["Subject"] == sent["subject"]]
    assert len(owner_mail) == 1 and "joey@topline-agency.example" in owner_mail[0]["To"]
    assert ops(stack, capsys, "digest", "--send")["sent"] is False

"""The ops CLI against moto (in-process): listing, timelines, re-runs, the report and the digest."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.template import ROOT, LocalTemplate
from savedesk import cli
from savedesk.models import CaseStatus
from savedesk.store import CaseStore
from tests.unit.step_fakes import new_case_store
from tests.unit.test_insights import NOW, make_case

REGION = "us-east-1"
ASL = json.loads((ROOT / "statemachine" / "cancellation.asl.json").read_text())


# --- pure pieces --------------------------------------------------------------------------------


def test_rerun_steps_are_the_route_request_targets_of_the_asl() -> None:
    steps = cli.rerun_steps(ASL)
    assert {"AcknowledgeCancellationRequest", "ConfirmClosure", "ProcessRefund", "CloseCase"} <= set(steps)
    # Callback states and the router itself cannot be re-run with the documented input.
    assert "WaitForMeetingOutcome" not in steps and "RouteRequest" not in steps
    assert all(step in json.dumps(ASL) for step in steps)
    assert cli.rerun_steps({"States": {}}) == []


@pytest.mark.parametrize(
    ("case_id", "step"),
    [
        ("case-da74ea6fc55bc2cb6889", "FollowUpOutstandingPayments"),
        ("case-" + "x" * 90, "DeactivateToplineAccess"),  # too long: shortened, stamp kept
        ("case with spaces/and:colons", "ConfirmClosure"),
    ],
)
def test_execution_names_fit_step_functions_rules(case_id: str, step: str) -> None:
    name = cli.execution_name(case_id, step, datetime(2026, 12, 2, 9, 30, 5, tzinfo=UTC))
    assert len(name) <= 80
    assert re.fullmatch(r"[A-Za-z0-9_-]+", name)
    assert name.endswith("-20261202T093005Z")
    assert name.startswith(re.sub(r"[^A-Za-z0-9_-]", "-", case_id)[:20])


def test_execution_names_differ_by_the_second() -> None:
    first = cli.execution_name("case-1", "ConfirmClosure", NOW)
    assert first != cli.execution_name("case-1", "ConfirmClosure", NOW + timedelta(seconds=1))


def test_external_ids_from_a_finished_step() -> None:
    record = {
        "status": "COMPLETED",
        "result": {
            "summary": "done",
            "details": {
                "ses_message_id": "0100-abc",
                "slack": {"channel": "C0ACME0001", "ts": "1795672001.000002"},
                "clickup_task_id": "860000081",
                "refunds": [{"id": "re_1", "amount": 100}],
                "card_order_id": "mf_ord_9",
                "subscriptions": [{"id": "sub_1", "cancel_at": "2026-12-31"}],
                "invoice_ids": ["in_1"],
                "closed_task_ids": ["t1", "t2", "t3", "t4", "t5"],
            },
        },
        "effects": {},
    }
    assert cli.external_ids(record) == [
        "SES 0100-abc",
        "Slack C0ACME0001 ts=1795672001.000002",
        "ClickUp task 860000081",
        "ClickUp closed t1, t2, t3 (+2 more)",
        "Stripe subscription sub_1",
        "Stripe invoice in_1",
        "Stripe refund re_1",
        "Mailfold order mf_ord_9",
    ]


def test_external_ids_of_an_unfinished_step_come_from_its_effects() -> None:
    effects = {f"clickup:close:{i}": {"done": True, "value": "901300011"} for i in range(5)}
    effects["slack:failure"] = {"done": True, "value": {"channel": "C0OPS", "ts": "17.01"}}
    effects["email:x"] = {"done": False, "attempts": 1}  # an intent, not an effect
    ids = cli.external_ids({"status": "STARTED", "result": None, "effects": effects})
    assert ids == ["clickup:close: 5 recorded", "slack:failure=17.01"]


def test_last_step_prefers_the_unfinished_one() -> None:
    steps = {
        "A": {"status": "COMPLETED", "finished_at": "2026-11-01T10:00:00+00:00"},
        "B": {"status": "COMPLETED", "finished_at": "2026-11-01T11:00:00+00:00"},
    }
    assert cli.last_step(steps) == "B"
    assert cli.last_step({**steps, "C": {"status": "STARTED", "finished_at": None}}) == "C (started)"
    assert cli.last_step({}) is None


def test_table_aligns_and_truncates() -> None:
    text = cli.table(["id", "company"], [["c-1", "A" * 50], ["c-22", None]], max_width=10)
    assert text.splitlines() == ["ID    COMPANY", "c-1   AAAAAAAAA…", "c-22  -"]


# --- commands against moto ------------------------------------------------------------------------


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def backend(aws: None) -> cli.Backend:
    store = new_case_store(boto3.client("dynamodb", region_name=REGION))
    _, arn, definition = LocalTemplate().state_machine()
    sfn = boto3.client("stepfunctions", region_name=REGION)
    role = "arn:aws:iam::123456789012:role/savedesk-local"
    sfn.create_state_machine(name=arn.rsplit(":", 1)[-1], definition=definition, roleArn=role)
    sesv2 = boto3.client("sesv2", region_name=REGION)
    sesv2.create_email_identity(EmailIdentity="topline-agency.example")
    sesv2.create_configuration_set(ConfigurationSetName="savedesk-dev")
    return cli.Backend(
        boto3.session.Session(region_name=REGION),
        store.table,
        arn,
        REGION,
        mail={
            "SENDER_EMAIL": "success@topline-agency.example",
            "EMAIL_CONFIGURATION_SET": "savedesk-dev",
            "OWNER_EMAIL": "joey@topline-agency.example",
        },
    )


def seed(store: CaseStore) -> None:
    saved = make_case(1, status=CaseStatus.SAVED, meeting="saved", opened=NOW - timedelta(days=5),
                      decided=NOW - timedelta(days=2), mrr_saved="3400.00", codes=["price"])  # fmt: skip
    waiting = make_case(2, opened=NOW - timedelta(days=1), company="Cedar Vets", mrr="1500.00", currency="EUR")
    for case in (saved, waiting):
        store.open_case(case, {"source": "test"})
    store.start_step("case-0001", "ScheduleSaveMeeting")
    store.complete_step(
        "case-0001",
        "ScheduleSaveMeeting",
        {
            "summary": "Meeting invitation emailed",
            "details": {"ses_message_id": "ses-123", "clickup_task_id": "860000081"},
            "output": None,
        },
    )
    store.append_event(
        "case-0001", "step_completed", {"step": "ScheduleSaveMeeting", "summary": "Meeting invitation emailed"}
    )


def run(capsys: pytest.CaptureFixture[str], backend: cli.Backend, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv), backend=backend, now=NOW)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cases_lists_newest_first(backend: cli.Backend, capsys: pytest.CaptureFixture[str]) -> None:
    seed(backend.store)
    code, out, _ = run(capsys, backend, "cases")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["CASE", "COMPANY", "STATUS", "OPENED", "MRR", "LAST", "STEP"]
    assert lines[1].startswith("case-0002") and "Cedar Vets" in lines[1] and "1,500.00 EUR" in lines[1]
    assert lines[2].startswith("case-0001") and "$4,000.00" in lines[2] and "ScheduleSaveMeeting" in lines[2]
    assert "2 case(s)" in out

    code, out, _ = run(capsys, backend, "cases", "--status", "SAVED", "--json")
    rows = json.loads(out)
    assert [r["case_id"] for r in rows] == ["case-0001"]
    assert rows[0] | {"opened_at": None} == {
        "case_id": "case-0001",
        "company": "Acme Dental Group",
        "status": "SAVED",
        "opened_at": None,
        "mrr": "4000.00",
        "currency": "USD",
        "last_step": "ScheduleSaveMeeting",
    }


def test_show_prints_the_header_and_the_timeline_with_ids(
    backend: cli.Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(backend.store)
    code, out, _ = run(capsys, backend, "show", "case-0001")
    assert code == 0
    assert re.search(r"Company\s+Acme Dental Group", out)
    assert re.search(r"Account manager\s+Priya Natarajan <priya@topline-agency.example>", out)
    assert "Timeline" in out and "ScheduleSaveMeeting" in out and "Meeting invitation emailed" in out
    assert "↳ SES ses-123" in out and "↳ ClickUp task 860000081" in out

    code, out, _ = run(capsys, backend, "show", "case-0001", "--json")
    shown = json.loads(out)
    assert shown["case"]["status"] == "SAVED"
    completed = [e for e in shown["timeline"] if e["kind"] == "step_completed"]
    assert completed[0]["ids"] == ["SES ses-123", "ClickUp task 860000081"]
    assert [e["kind"] for e in shown["timeline"]][0] == "case_opened"


def test_show_unknown_case_is_an_error(backend: cli.Backend, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, backend, "show", "case-nope")
    assert code == 1 and out == ""
    assert "no case 'case-nope'" in err


def test_rerun_starts_the_documented_input(backend: cli.Backend, capsys: pytest.CaptureFixture[str]) -> None:
    seed(backend.store)
    code, out, _ = run(capsys, backend, "rerun", "case-0001", "ScheduleSaveMeeting", "--force", "--json")
    assert code == 0
    started = json.loads(out)
    assert started["name"] == "case-0001-rerun-ScheduleSaveMeeting-20261130T080000Z"
    execution = backend.sfn.describe_execution(executionArn=started["execution_arn"])
    assert json.loads(execution["input"]) == {"case_id": "case-0001", "rerun": ["ScheduleSaveMeeting"], "force": True}
    assert started["console"].startswith("https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#")
    assert started["console"].endswith(started["execution_arn"])


def test_rerun_refuses_an_unknown_step_or_case(backend: cli.Backend, capsys: pytest.CaptureFixture[str]) -> None:
    seed(backend.store)
    code, _, err = run(capsys, backend, "rerun", "case-0001", "WaitForMeetingOutcome")
    assert code == 1 and "cannot be re-run" in err and "ConfirmClosure" in err
    code, _, err = run(capsys, backend, "rerun", "case-nope", "ConfirmClosure")
    assert code == 1 and "no case" in err
    machine = backend.state_machine_arn
    assert backend.sfn.list_executions(stateMachineArn=machine)["executions"] == []


def test_report_writes_the_dashboard(backend: cli.Backend, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    seed(backend.store)
    out_file = tmp_path / "dash.html"
    code, out, _ = run(capsys, backend, "report", "--out", str(out_file), "--months", "3")
    assert code == 0
    assert f"Wrote {out_file}" in out
    assert "2 requests, 1 saved, 0 cancelled, save rate 100 %" in out
    html = out_file.read_text()
    assert html.count("<svg") >= 4 and "Sep 2026" in html and "Nov 2026" in html
    code, _, err = run(capsys, backend, "report", "--months", "0")
    assert code == 2 and "at least 1" in err


def test_digest_prints_then_sends_once(backend: cli.Backend, capsys: pytest.CaptureFixture[str]) -> None:
    seed(backend.store)
    code, out, _ = run(capsys, backend, "digest")
    assert code == 0
    assert out.startswith("Subject: SaveDesk weekly (2026-W49): 1 saved, 0 cancelled, 1 waiting")
    assert "Cedar Vets" in out

    code, out, _ = run(capsys, backend, "digest", "--send", "--json")
    sent = json.loads(out)
    assert sent["sent"] is True and sent["message_id"] and sent["week"] == "2026-W49"
    code, out, _ = run(capsys, backend, "digest", "--send")
    assert "already sent" in out


# --- where the CLI looks ----------------------------------------------------------------------------


def args(*argv: str) -> argparse.Namespace:
    return cli.parser().parse_args(["cases", *argv])


def test_connect_resolves_the_stack_outputs(aws: None) -> None:
    template = {
        "Resources": {
            "CasesTable": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "BillingMode": "PAY_PER_REQUEST",
                },
            }
        },
        "Outputs": {
            "CasesTableName": {"Value": {"Ref": "CasesTable"}},
            "CancellationWorkflowArn": {"Value": "arn:aws:states:us-east-1:123456789012:stateMachine:wf"},
        },
    }
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName="savedesk-prod", TemplateBody=json.dumps(template))
    backend = cli.connect(args("--stack-name", "savedesk-prod", "--region", REGION))
    assert backend.table.startswith("savedesk-prod-CasesTable")
    assert backend.state_machine_arn.endswith(":stateMachine:wf")
    assert backend.endpoint_url is None

    with pytest.raises(cli.CliError, match="cannot read CloudFormation stack 'nope'"):
        cli.connect(args("--stack-name", "nope", "--region", REGION))


def test_connect_local_uses_the_local_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTO_PORT", "5123")
    backend = cli.connect(args("--local"))
    assert backend.endpoint_url == "http://127.0.0.1:5123"
    assert backend.table == "savedesk-CasesTable"
    assert backend.state_machine_arn.endswith(":stateMachine:savedesk-CancellationWorkflow")
    assert backend.mail["OWNER_EMAIL"] == "joey@topline-agency.example"
    other = cli.connect(args("--endpoint-url", "http://127.0.0.1:6000", "--table", "mine"))
    assert other.endpoint_url == "http://127.0.0.1:6000" and other.table == "mine"


def test_mail_settings_come_from_the_stack() -> None:
    class FakeCloudFormation:
        def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
            parameters = [
                {"ParameterKey": "SenderEmail", "ParameterValue": "success@topline.example"},
                {"ParameterKey": "OwnerEmail", "ParameterValue": "joey@topline.example"},
            ]
            return {"Stacks": [{"Parameters": parameters}]}

        def describe_stack_resource(self, StackName: str, LogicalResourceId: str) -> dict[str, Any]:  # noqa: N803
            assert LogicalResourceId == "EmailConfigurationSet"
            return {"StackResourceDetail": {"PhysicalResourceId": "savedesk-prod"}}

    assert cli._stack_mail_settings(FakeCloudFormation(), "savedesk-prod") == {
        "SENDER_EMAIL": "success@topline.example",
        "OWNER_EMAIL": "joey@topline.example",
        "EMAIL_CONFIGURATION_SET": "savedesk-prod",
    }

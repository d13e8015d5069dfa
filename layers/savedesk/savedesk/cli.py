"""`savedesk`: the ops command line, against AWS or the local stack.

    savedesk cases [--status OPEN|SAVED|OFFBOARDING|CLOSED|FAILED] [--limit N]
    savedesk show CASE
    savedesk rerun CASE STEP [--force]
    savedesk report [--out dashboard.html] [--months 12]
    savedesk digest [--send [--force] [--to ADDRESS]]

Where it looks:
- AWS (default): `--profile`, `--region`, `--stack-name` (default `savedesk-dev`, as in samconfig.toml);
  the table and state machine come from the stack's outputs `CasesTableName` and
  `CancellationWorkflowArn`, the digest's sender and owner from its parameters.
- the local stack: `--local` (http://127.0.0.1:$MOTO_PORT, default 5000) or `--endpoint-url URL`,
  with the local stack's names and dummy credentials.
`--table` / `--state-machine-arn` override either. Every command prints a table for people, or
JSON with `--json`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

from savedesk.contract_terms import format_money
from savedesk.models import Case, CaseStatus, utcnow
from savedesk.steps.common import console_link

DEFAULT_STACK = "savedesk-dev"
LOCAL_REGION = "us-east-1"
# The local stack's names (local.template.LocalTemplate.physical), for when `local` is not importable
# (the installed `savedesk` script run outside the repository).
LOCAL_TABLE = "savedesk-CasesTable"
LOCAL_STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:savedesk-CancellationWorkflow"
LOCAL_MAIL = {"SENDER_EMAIL": "success@topline-agency.example", "EMAIL_CONFIGURATION_SET": "savedesk-dev"}
ALL_CASES = 100_000
# Step Functions execution names: 1-80 characters, no spaces, brackets, wildcards or punctuation.
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class CliError(Exception):
    """Something the operator can fix (unknown case, unknown step, missing stack output)."""


# --- where the resources are -----------------------------------------------------------------


@dataclass
class Backend:
    session: Any  # boto3.session.Session
    table: str
    state_machine_arn: str
    region: str
    endpoint_url: str | None = None
    stack_name: str | None = None
    mail: dict[str, str] = field(default_factory=dict)  # SENDER_EMAIL, EMAIL_CONFIGURATION_SET, OWNER_EMAIL

    @property
    def local(self) -> bool:
        return self.endpoint_url is not None

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=self.region, endpoint_url=self.endpoint_url)

    @cached_property
    def store(self) -> Any:
        from savedesk.store import CaseStore

        return CaseStore(self.table, client=self.client("dynamodb"))

    @cached_property
    def sfn(self) -> Any:
        return self.client("stepfunctions")

    def mail_settings(self) -> dict[str, str]:
        """Sender, configuration set and owner for `digest --send`, read only when sending."""
        if not self.mail and self.stack_name:
            self.mail = _stack_mail_settings(self.client("cloudformation"), self.stack_name)
        return self.mail


def _local_names() -> tuple[str, str, dict[str, str]]:
    try:
        from local.template import LocalTemplate
    except ImportError:
        return LOCAL_TABLE, LOCAL_STATE_MACHINE, {**LOCAL_MAIL, "OWNER_EMAIL": "joey@topline-agency.example"}
    template = LocalTemplate()
    env = template.environment()
    return template.physical["CasesTable"], template.physical["CancellationWorkflow"], env


def _stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    try:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    except Exception as exc:
        raise CliError(f"cannot read CloudFormation stack {stack_name!r}: {exc}") from exc
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _stack_mail_settings(cloudformation: Any, stack_name: str) -> dict[str, str]:
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    config_set = cloudformation.describe_stack_resource(StackName=stack_name, LogicalResourceId="EmailConfigurationSet")
    return {
        "SENDER_EMAIL": parameters.get("SenderEmail", ""),
        "OWNER_EMAIL": parameters.get("OwnerEmail", ""),
        "EMAIL_CONFIGURATION_SET": config_set["StackResourceDetail"]["PhysicalResourceId"],
    }


def connect(args: argparse.Namespace) -> Backend:
    import boto3

    endpoint = args.endpoint_url or (f"http://127.0.0.1:{os.environ.get('MOTO_PORT', '5000')}" if args.local else None)
    if endpoint:
        local_table, local_arn, env = _local_names()
        session = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto's dummy credentials
            region_name=args.region or LOCAL_REGION,
        )
        mail: dict[str, str] = {
            k: env[k] for k in ("SENDER_EMAIL", "EMAIL_CONFIGURATION_SET", "OWNER_EMAIL") if k in env
        }
        return Backend(
            session,
            args.table or local_table,
            args.state_machine_arn or local_arn,
            session.region_name,
            endpoint_url=endpoint,
            mail=mail,
        )
    session = boto3.session.Session(profile_name=args.profile, region_name=args.region)
    region = session.region_name or "us-east-1"
    table: str | None = args.table
    arn: str | None = args.state_machine_arn
    if not (table and arn):
        outputs = _stack_outputs(session.client("cloudformation", region_name=region), args.stack_name)
        table = table or outputs.get("CasesTableName")
        arn = arn or outputs.get("CancellationWorkflowArn")
    if not (table and arn):
        raise CliError(f"stack {args.stack_name!r} has no CasesTableName / CancellationWorkflowArn output")
    return Backend(session, table, arn, region, stack_name=args.stack_name)


# --- formatting ------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], max_width: int = 40) -> str:
    def cell(value: object) -> str:
        text = "-" if value is None else str(value)
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def _when(value: str | datetime | None) -> str:
    if value is None:
        return "-"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


# --- what the step records say ---------------------------------------------------------------


def last_step(steps: dict[str, dict[str, Any]]) -> str | None:
    """The step that finished last, or the one running/waiting now (it has not finished)."""
    unfinished = [name for name, record in steps.items() if record["status"] != "COMPLETED"]
    if unfinished:
        return f"{unfinished[0]} ({steps[unfinished[0]]['status'].lower()})"
    finished = [(record.get("finished_at") or "", name) for name, record in steps.items()]
    return max(finished)[1] if finished else None


def external_ids(record: dict[str, Any]) -> list[str]:
    """The vendor ids a step recorded: from its result, or from its effects if it has not finished."""
    details = (record.get("result") or {}).get("details") or {}
    ids: list[str] = []
    if details.get("ses_message_id"):
        ids.append(f"SES {details['ses_message_id']}")
    slack = details.get("slack")
    if isinstance(slack, dict) and slack.get("ts"):
        ids.append(f"Slack {slack.get('channel')} ts={slack['ts']}")
    if details.get("clickup_task_id"):
        ids.append(f"ClickUp task {details['clickup_task_id']}")
    closed = details.get("closed_task_ids") or []
    if closed:
        shown = ", ".join(closed[:3]) + (f" (+{len(closed) - 3} more)" if len(closed) > 3 else "")
        ids.append(f"ClickUp closed {shown}")
    for subscription in details.get("subscriptions") or []:
        if isinstance(subscription, dict) and subscription.get("id"):
            ids.append(f"Stripe subscription {subscription['id']}")
    for invoice in details.get("invoice_ids") or []:
        ids.append(f"Stripe invoice {invoice}")
    for refund in details.get("refunds") or []:
        if isinstance(refund, dict) and refund.get("id"):
            ids.append(f"Stripe refund {refund['id']}")
    if details.get("card_order_id"):
        ids.append(f"Mailfold order {details['card_order_id']}")
    if ids or record.get("result"):
        return ids
    return _effect_ids(record.get("effects") or {})


def _effect_ids(effects: dict[str, Any]) -> list[str]:
    groups: dict[str, list[str]] = {}
    for key, effect in effects.items():
        if not isinstance(effect, dict) or not effect.get("done"):
            continue
        value = effect.get("value")
        if isinstance(value, dict):
            value = value.get("ts") or value.get("id") or json.dumps(value, sort_keys=True, default=str)
        group = ":".join(key.split(":")[:2])
        groups.setdefault(group, []).append(f"{key}={value}")
    ids: list[str] = []
    for group, entries in groups.items():
        ids += entries if len(entries) <= 3 else [f"{group}: {len(entries)} recorded"]
    return ids


def timeline(events: list[dict[str, Any]], steps: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    entries = []
    for event in sorted(events, key=lambda e: e["at"]):
        detail = event.get("detail") or {}
        step = detail.get("step")
        summary = detail.get("summary") or detail.get("message") or _brief(detail)
        ids = external_ids(steps[step]) if event["kind"] == "step_completed" and step in steps else []
        entries.append({"at": event["at"], "kind": event["kind"], "step": step, "summary": summary, "ids": ids})
    return entries


def _brief(detail: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(detail.items()) if k != "step")


# --- re-runs ---------------------------------------------------------------------------------


def rerun_steps(definition: dict[str, Any]) -> list[str]:
    """The steps the workflow's RouteRequest Choice can jump to (the documented re-run input)."""
    route = definition.get("States", {}).get("RouteRequest", {})
    return [
        c["StringEquals"] for c in route.get("Choices", []) if c.get("Variable") == "$.rerun[0]" and "StringEquals" in c
    ]


def execution_name(case_id: str, step: str, now: datetime) -> str:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    head = _NAME_UNSAFE.sub("-", f"{case_id}-rerun-{step}")
    return f"{head[: 80 - len(stamp) - 1]}-{stamp}"


# --- commands --------------------------------------------------------------------------------


def cmd_cases(backend: Backend, args: argparse.Namespace) -> int:
    status = CaseStatus(args.status) if args.status else None
    cases: list[Case] = backend.store.list_cases(status, limit=args.limit)
    rows = []
    for case in cases:
        rows.append(
            {
                "case_id": case.case_id,
                "company": case.account.company,
                "status": case.status.value,
                "opened_at": case.opened_at.isoformat(),
                "mrr": str(case.account.mrr),
                "currency": case.account.currency,
                "last_step": last_step(backend.store.steps(case.case_id)),
            }
        )
    if args.json:
        _print_json(rows)
        return 0
    print(
        table(
            ["case", "company", "status", "opened", "mrr", "last step"],
            [[r["case_id"], r["company"], r["status"], _when(r["opened_at"]), _money(r), r["last_step"]] for r in rows],
        )
    )
    print(f"\n{len(rows)} case(s)")
    return 0


def _money(row: dict[str, Any]) -> str:
    return format_money(Decimal(row["mrr"]), row["currency"])


def _header(case: Case) -> dict[str, Any]:
    account, review = case.account, case.contract_review or {}
    return {
        "case_id": case.case_id,
        "company": case.account.company,
        "status": case.status.value,
        "account_manager": f"{account.account_manager_name} <{account.account_manager_email}>",
        "mrr": format_money(account.mrr, account.currency),
        "opened_at": case.opened_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "meeting_outcome": case.meeting.outcome if case.meeting else None,
        "contract": review.get("summary") or "not reviewed yet",
        "inside_minimum_term": review.get("inside_minimum_term"),
        "commitment_end": review.get("commitment_end"),
        "remaining_obligation": review.get("remaining_obligation"),
    }


HEADER_LABELS = {
    "case_id": "Case",
    "company": "Company",
    "status": "Status",
    "account_manager": "Account manager",
    "mrr": "MRR",
    "opened_at": "Opened",
    "closed_at": "Closed",
    "meeting_outcome": "Meeting outcome",
    "contract": "Contract",
    "inside_minimum_term": "Inside minimum term",
    "commitment_end": "Commitment end",
    "remaining_obligation": "Remaining obligation",
}


def cmd_show(backend: Backend, args: argparse.Namespace) -> int:
    case = backend.store.get_case(args.case)
    if case is None:
        raise CliError(f"no case {args.case!r}")
    steps = backend.store.steps(case.case_id)
    entries = timeline(backend.store.events(case.case_id), steps)
    header = _header(case)
    if args.json:
        _print_json({"case": header, "timeline": entries, "steps": steps})
        return 0
    width = max(len(label) for label in HEADER_LABELS.values())
    for key, label in HEADER_LABELS.items():
        value = header[key]
        print(f"{label.ljust(width)}  {'-' if value is None else value}")
    print("\nTimeline")
    rows = []
    for e in entries:
        rows.append([_when(e["at"]), e["step"] if e["kind"] == "step_completed" else e["kind"], e["summary"]])
        rows += [["", "", f"  ↳ {i}"] for i in e["ids"]]
    print(table(["when (UTC)", "step / event", "what"], rows, max_width=110))
    return 0


def cmd_rerun(backend: Backend, args: argparse.Namespace, now: datetime) -> int:
    if backend.store.get_case(args.case) is None:
        raise CliError(f"no case {args.case!r}")
    described = backend.sfn.describe_state_machine(stateMachineArn=backend.state_machine_arn)
    allowed = rerun_steps(json.loads(described["definition"]))
    if args.step not in allowed:
        raise CliError(f"{args.step!r} cannot be re-run; the workflow's re-runnable steps: {', '.join(allowed)}")
    name = execution_name(args.case, args.step, now)
    payload = {"case_id": args.case, "rerun": [args.step], "force": bool(args.force)}
    started = backend.sfn.start_execution(
        stateMachineArn=backend.state_machine_arn, name=name, input=json.dumps(payload, separators=(",", ":"))
    )
    arn = started["executionArn"]
    result = {"execution_arn": arn, "name": name, "input": payload, "console": console_link(backend.region, arn)}
    if args.json:
        _print_json(result)
        return 0
    print(f"Started re-run of {args.step} for {args.case}{' (forced)' if args.force else ''}")
    print(f"Execution: {arn}")
    print(f"Console:   {result['console']}")
    if backend.local:
        print(
            f"Local:     aws stepfunctions describe-execution --endpoint-url {backend.endpoint_url} "
            f"--execution-arn {arn}"
        )
    return 0


def cmd_report(backend: Backend, args: argparse.Namespace, now: datetime) -> int:
    from savedesk.dashboard import render_dashboard
    from savedesk.insights import monthly

    rollup = monthly(backend.store.list_cases(limit=ALL_CASES), now, months=args.months)
    out = Path(args.out)
    out.write_text(render_dashboard(rollup, now), encoding="utf-8")
    total = rollup.total
    summary = {
        "path": str(out.resolve()),
        "period": total.label,
        "opened": total.opened,
        "saved": total.saved,
        "cancelled": total.cancelled,
        "save_rate": total.save_rate,
    }
    if args.json:
        _print_json(summary)
        return 0
    rate = "-" if total.save_rate is None else f"{total.save_rate * 100:.0f} %"
    print(f"Wrote {summary['path']}")
    print(f"{total.label}: {total.opened} requests, {total.saved} saved, {total.cancelled} cancelled, save rate {rate}")
    return 0


def cmd_digest(backend: Backend, args: argparse.Namespace, now: datetime) -> int:
    from savedesk.steps.send_weekly_digest import build, send_weekly_digest

    if not args.send:
        digest, email = build(backend.store.list_cases(limit=ALL_CASES), now)
        if args.json:
            _print_json({"week": digest.week, "subject": email.subject, "text": email.text, "sent": False})
        else:
            print(f"Subject: {email.subject}\n\n{email.text}")
        return 0

    from savedesk.integrations.ses import Mailer
    from savedesk.settings import Settings

    mail = backend.mail_settings()
    owner = args.to or mail.get("OWNER_EMAIL")
    if not (owner and mail.get("SENDER_EMAIL") and mail.get("EMAIL_CONFIGURATION_SET")):
        raise CliError("cannot tell the sender, configuration set or owner; pass --to, or use --stack-name")
    # The sender name the functions use (Settings.agency_name's default; the template does not set it).
    agency = str(Settings.model_fields["agency_name"].default)
    mailer = Mailer(mail["SENDER_EMAIL"], agency, mail["EMAIL_CONFIGURATION_SET"], client=backend.client("sesv2"))
    result = send_weekly_digest(backend.store, mailer, owner, now, agency_name=agency, force=args.force)
    if args.json:
        _print_json(
            {"week": result.week, "subject": result.subject, "sent": result.sent, "message_id": result.message_id}
        )
    elif result.sent:
        print(f"Sent the {result.week} digest to {owner} (SES {result.message_id})")
    else:
        print(f"The {result.week} digest was already sent; --force sends it again")
    return 0


# --- entry point -----------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_argument_group("where")
    where.add_argument("--profile", help="AWS profile")
    where.add_argument("--region", help="AWS region")
    where.add_argument("--stack-name", default=DEFAULT_STACK, help=f"CloudFormation stack (default {DEFAULT_STACK})")
    where.add_argument("--local", action="store_true", help="the local stack on 127.0.0.1:$MOTO_PORT (default 5000)")
    where.add_argument("--endpoint-url", help="an AWS endpoint serving the local stack (moto)")
    where.add_argument("--table", help="the cases table (instead of the stack's output)")
    where.add_argument("--state-machine-arn", help="the workflow (instead of the stack's output)")
    common.add_argument("--json", action="store_true", help="print JSON instead of a table")

    root = argparse.ArgumentParser(prog="savedesk", description="SaveDesk ops: cases, timelines, re-runs, reports.")
    commands = root.add_subparsers(dest="command", required=True)

    cases = commands.add_parser("cases", parents=[common], help="list cases, newest first")
    cases.add_argument("--status", choices=[s.value for s in CaseStatus])
    cases.add_argument("--limit", type=int, default=50)

    show = commands.add_parser("show", parents=[common], help="a case and its timeline, with external ids")
    show.add_argument("case")

    rerun = commands.add_parser("rerun", parents=[common], help="start the documented re-run execution of one step")
    rerun.add_argument("case")
    rerun.add_argument("step")
    rerun.add_argument("--force", action="store_true", help="run the step again even if it finished")

    report = commands.add_parser("report", parents=[common], help="write the dashboard (static HTML)")
    report.add_argument("--out", default="dashboard.html")
    report.add_argument("--months", type=int, default=12)

    digest = commands.add_parser("digest", parents=[common], help="print (or send) the owner's weekly digest")
    digest.add_argument("--send", action="store_true", help="email it to the owner (once per ISO week)")
    digest.add_argument("--force", action="store_true", help="with --send: send even if this week's went out")
    digest.add_argument("--to", help="with --send: another recipient than the owner")
    return root


def main(argv: Sequence[str] | None = None, *, backend: Backend | None = None, now: datetime | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "report" and args.months < 1:
        print("savedesk: --months must be at least 1", file=sys.stderr)
        return 2
    moment = now or utcnow()
    try:
        backend = backend or connect(args)
        if args.command == "cases":
            return cmd_cases(backend, args)
        if args.command == "show":
            return cmd_show(backend, args)
        if args.command == "rerun":
            return cmd_rerun(backend, args, moment)
        if args.command == "report":
            return cmd_report(backend, args, moment)
        return cmd_digest(backend, args, moment)
    except CliError as exc:
        print(f"savedesk: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

"""`make bench`: SaveDesk's performance figures, from one run (docs/benchmarks.md explains each).

1. Cold start: importing each function's handler module in a fresh interpreter, against importing boto3.
2. Warm latency: the webhook handler in-process against a bare JSON-in/JSON-out handler that makes
   the same AWS calls; both sides talk to botocore-Stubber'd clients, so the ratio is our own code.
3. On the local stack: webhook -> acknowledgement email, whole cases, state transitions and the
   Step Functions + Lambda cost of a case at list prices.

Not part of `make test`: the figures depend on the machine, and targets are checked here, not in tests.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.template import ROOT, LocalTemplate

LAYER = ROOT / "layers" / "savedesk"
EVENTS = ROOT / "events"

COLD_RUNS = 5
WARM_CALLS = 300
WARM_UP_CALLS = 20
LOCAL_CASES = 3  # of each kind, saved and offboarded

# Targets (the issue "Ops and insight").
TARGET_WARM_RATIO = 2.0
TARGET_COLD_RATIO = 1.5
TARGET_ACK_SECONDS = 1.0
TARGET_TRANSITIONS = 60

# List prices, us-east-1, from aws.amazon.com/step-functions/pricing and aws.amazon.com/lambda/pricing
# as the issue quotes them on 2026-11-26 (free tiers left out); docs/benchmarks.md.
PRICE_PER_TRANSITION = 0.025 / 1000  # Standard workflows
PRICE_PER_GB_SECOND = 0.0000133334  # Lambda arm64, first tier
PRICE_PER_REQUEST = 0.20 / 1_000_000


def say(text: str = "") -> None:
    print(text, flush=True)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


# -- 1. cold-start imports ----------------------------------------------------------------------

# Packages in the dev venv but not in the layer that httpx imports when present (for its CLI);
# blocked so the probe imports what Lambda would (layers/savedesk/requirements.txt).
NOT_IN_LAYER = ("rich", "click", "pygments")
_IMPORT_PROBE = (
    "import sys, time; sys.modules.update(dict.fromkeys({blocked!r})); "
    "t, c = time.perf_counter(), time.process_time(); import {module}; "
    "print((time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000)"
)


def _import_ms(module: str, path: list[Path], env: dict[str, str]) -> tuple[float, float]:
    """(wall ms, CPU ms) of importing `module` in a fresh interpreter."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed probe
        [sys.executable, "-c", _IMPORT_PROBE.format(module=module, blocked=NOT_IN_LAYER)],
        env={**env, "PYTHONPATH": os.pathsep.join(str(p) for p in path)},
        capture_output=True,
        text=True,
        check=True,
    )
    wall, cpu = result.stdout.split()
    return float(wall), float(cpu)


def cold_imports() -> dict[str, tuple[float, float]]:
    """Median import time (wall ms, CPU ms) of boto3 and of each function's handler module, layer on the path.

    Each import runs in a fresh interpreter. One discarded run first writes the bytecode caches, so
    both sides import compiled modules (as site-packages' boto3 always does); the rounds interleave
    boto3 and the functions so a busy machine slows both alike.
    """
    template = LocalTemplate()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "POWERTOOLS"))}
    env.update(template.environment())
    targets: dict[str, tuple[str, list[Path]]] = {"boto3": ("boto3", [LAYER])}
    for logical_id, fn in sorted(template.functions().items()):
        targets[logical_id] = (fn.module, [fn.code_dir, LAYER])
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}
    for module, path in targets.values():
        _import_ms(module, path, env)  # writes __pycache__
    for _ in range(COLD_RUNS):
        for name, (module, path) in targets.items():
            samples[name].append(_import_ms(module, path, env))
    return {
        name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
        for name, values in samples.items()
    }


# -- 2. warm latency of the webhook handler -----------------------------------------------------


@contextmanager
def stdout_to_devnull() -> Iterator[None]:
    """Both handlers print (Logger lines, EMF) as they would to CloudWatch; here to /dev/null, at fd level."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(devnull)
        os.close(saved)


class StubbedAws:
    """DynamoDB, Step Functions and Secrets Manager clients answered by botocore's Stubber.

    Requests are still validated and serialized by botocore; only the HTTP round trip is skipped,
    so both handlers pay the same per call.
    """

    def __init__(self) -> None:
        import boto3
        from botocore.stub import Stubber

        session = boto3.session.Session(
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",  # noqa: S106
        )
        self.dynamodb = session.client("dynamodb")
        self.stepfunctions = session.client("stepfunctions")
        self.secretsmanager = session.client("secretsmanager")
        self.stubbers = [Stubber(c) for c in (self.dynamodb, self.stepfunctions, self.secretsmanager)]
        for stubber in self.stubbers:
            stubber.activate()
        self.ddb_stub, self.sfn_stub, self.sm_stub = self.stubbers

    def expect_open_case(self, execution_arn: str) -> None:
        """One webhook's calls: TransactWriteItems (case + delivery + account lock + event), StartExecution."""
        self.ddb_stub.add_response("transact_write_items", {})
        self.sfn_stub.add_response("start_execution", {"executionArn": execution_arn, "startDate": datetime.now(UTC)})

    def expect_secret(self, secret: dict[str, Any]) -> None:
        self.sm_stub.add_response("get_secret_value", {"Name": "webhook-secrets", "SecretString": json.dumps(secret)})


def bare_handler_for(aws: StubbedAws, table: str, state_machine_arn: str, secret_id: str) -> Callable[..., Any]:
    """JSON in, JSON out, and the same AWS calls with the same items as the webhook handler; nothing else.

    No framework, no signature check, no validation: the floor a Python Lambda doing this work sits on.
    The items carry the same attributes and conditions as CaseStore.open_case writes, so botocore
    validates and serializes the same amount on both sides.
    """
    secrets: dict[str, Any] = {}

    def s(value: str) -> dict[str, str]:
        return {"S": value}

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if not secrets:  # read once per container, as the real handler's cached read
            secrets.update(json.loads(aws.secretsmanager.get_secret_value(SecretId=secret_id)["SecretString"]))
        body = json.loads(event["body"])
        delivery_id = "sha256-" + hashlib.sha256(event["body"].encode()).hexdigest()
        case_id = "case-" + hashlib.sha256(f"hubspot\n{delivery_id}".encode()).hexdigest()[:20]
        now = datetime.now(UTC).isoformat()
        doc = json.dumps({"case_id": case_id, "status": "OPEN", "account": body, "opened_at": now})
        absent = "attribute_not_exists(pk)"
        aws.dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": {
                            "pk": s(f"CASE#{case_id}"),
                            "sk": s("CASE"),
                            "status": s("OPEN"),
                            "account_id": s(body["hs_object_id"]),
                            "gsi1pk": s("STATUS#OPEN"),
                            "gsi1sk": s(f"{now}#{case_id}"),
                            "version": {"N": "0"},
                            "doc": s(doc),
                        },
                        "ConditionExpression": absent,
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": {
                            "pk": s(f"DELIVERY#hubspot#{delivery_id}"),
                            "sk": s("DELIVERY"),
                            "case_id": s(case_id),
                            "received_at": s(now),
                        },
                        "ConditionExpression": absent,
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"pk": s(f"ACCOUNT#{body['hs_object_id']}"), "sk": s("OPEN"), "case_id": s(case_id)},
                        "ConditionExpression": absent,
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": {
                            "pk": s(f"CASE#{case_id}"),
                            "sk": s(f"EVENT#{now}#000000"),
                            "at": s(now),
                            "kind": s("case_opened"),
                            "detail": s(json.dumps({"delivery_id": delivery_id, "source": "hubspot"})),
                        },
                    }
                },
            ]
        )
        aws.stepfunctions.start_execution(
            stateMachineArn=state_machine_arn, name=case_id, input=json.dumps({"case_id": case_id})
        )
        return {"statusCode": 202, "body": json.dumps({"case_id": case_id, "status": "OPEN"})}

    return handler


def signed_hubspot_events(count: int, public_base_url: str, secret: str) -> list[dict[str, Any]]:
    """HTTP API v2 events of HubSpot cancel webhooks, each for another account, signed ahead of time."""
    from local.api import http_api_event
    from local.client import hubspot_headers

    base = json.loads((EVENTS / "crm-cancel-hubspot.json").read_text())
    path = "/webhooks/crm/hubspot"
    events = []
    for n in range(count):
        raw = json.dumps(base | {"hs_object_id": f"BENCH-{n:05d}", "name": f"Bench Client {n}"})
        headers = hubspot_headers(public_base_url + path, raw.encode(), secret=secret)
        events.append(http_api_event("POST", path, headers, raw, source_ip="192.0.2.1"))
    return events


@dataclass
class WarmResult:
    webhook_ms: list[float] = field(default_factory=list)  # wall clock
    webhook_cpu_ms: list[float] = field(default_factory=list)  # this thread's CPU time
    bare_ms: list[float] = field(default_factory=list)
    bare_cpu_ms: list[float] = field(default_factory=list)


def timed_call(handler: Callable[..., Any], event: dict[str, Any], context: Any) -> tuple[float, float]:
    """(wall ms, CPU ms) of one call. CPU time leaves out the time other processes held the core."""
    wall, cpu = time.perf_counter(), time.thread_time()
    response = handler(event, context)
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    assert response["statusCode"] == 202, response
    return wall * 1000, cpu * 1000


def warm_latency() -> WarmResult:
    """Both handlers called in turn (so a busy machine slows both alike), after a warm-up."""
    from aws_lambda_powertools.utilities.parameters import base as parameters_base
    from aws_lambda_powertools.utilities.parameters.secrets import SecretsProvider

    from local.lambdas import LambdaContext
    from savedesk import wiring
    from savedesk.integrations.stepfunctions import Workflow
    from savedesk.settings import get_settings
    from savedesk.store import CaseStore

    public_base_url = "https://savedesk.example.com"
    template = LocalTemplate({"PublicBaseUrl": public_base_url})
    saved_environ = dict(os.environ)
    os.environ.update(template.environment())
    os.environ.pop("POWERTOOLS_METRICS_DISABLED", None)  # as deployed: EMF printed
    os.environ["POWERTOOLS_TRACE_DISABLED"] = "true"
    env = template.environment()
    secret = {"hubspot_client_secrets": ["bench-hubspot-secret"]}
    aws = StubbedAws()
    saved_wiring = (wiring.store, wiring.workflow)
    saved_provider = parameters_base.DEFAULT_PROVIDERS.get("secrets")
    try:
        get_settings.cache_clear()
        settings = get_settings()
        store = CaseStore(settings.cases_table, client=aws.dynamodb)
        workflow = Workflow(settings.state_machine_arn, client=aws.stepfunctions)
        wiring.store = lambda: store  # type: ignore[assignment]
        wiring.workflow = lambda: workflow  # type: ignore[assignment]
        parameters_base.DEFAULT_PROVIDERS["secrets"] = SecretsProvider(boto3_client=aws.secretsmanager)

        ingress = template.functions()["IngressFunction"]
        spec = importlib.util.spec_from_file_location("bench_ingress", ingress.code_dir / f"{ingress.module}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        webhook = module.handler
        bare = bare_handler_for(aws, settings.cases_table, settings.state_machine_arn, env["WEBHOOK_SECRETS_ID"])

        events = signed_hubspot_events(WARM_UP_CALLS + WARM_CALLS, public_base_url, "bench-hubspot-secret")
        context = LambdaContext(function_name="savedesk-IngressFunction", invoked_function_arn="arn:bench")
        arn = settings.state_machine_arn.replace(":stateMachine:", ":execution:")
        aws.expect_secret(secret)  # each side reads the secret once, on its first call
        aws.expect_secret(secret)
        result = WarmResult()
        with stdout_to_devnull():
            for n, event in enumerate(events):
                aws.expect_open_case(f"{arn}:{n}")
                webhook_sample = timed_call(webhook, event, context)
                aws.expect_open_case(f"{arn}:{n}")
                bare_sample = timed_call(bare, event, context)
                if n >= WARM_UP_CALLS:
                    result.webhook_ms.append(webhook_sample[0])
                    result.webhook_cpu_ms.append(webhook_sample[1])
                    result.bare_ms.append(bare_sample[0])
                    result.bare_cpu_ms.append(bare_sample[1])
        for stubber in aws.stubbers:
            stubber.assert_no_pending_responses()
        return result
    finally:
        wiring.store, wiring.workflow = saved_wiring
        if saved_provider is None:
            parameters_base.DEFAULT_PROVIDERS.pop("secrets", None)
        else:
            parameters_base.DEFAULT_PROVIDERS["secrets"] = saved_provider
        os.environ.clear()
        os.environ.update(saved_environ)
        get_settings.cache_clear()


# -- 3. the local stack -------------------------------------------------------------------------


@dataclass
class CaseRun:
    kind: str  # "saved" or "offboarded"
    case_id: str
    ack_seconds: float
    total_seconds: float
    final_state: str
    status: str
    transitions: int
    invocations: list[tuple[str, float]] = field(default_factory=list)  # (function, ms)


def memory_mb() -> dict[str, int]:
    """Each function's MemorySize from template.yaml (its own, else Globals')."""
    template = LocalTemplate()
    default = int(template.raw["Globals"]["Function"].get("MemorySize", 128))
    return {
        template.physical[logical_id]: int(resource["Properties"].get("MemorySize", default))
        for logical_id, resource in template.of_type("AWS::Serverless::Function").items()
    }


def lambda_cost(invocations: list[tuple[str, float]], memory: dict[str, int]) -> float:
    """Billed duration is rounded up to the millisecond; GB-s at the function's memory size."""
    gb_seconds = sum(math.ceil(ms) / 1000 * memory[name] / 1024 for name, ms in invocations)
    return gb_seconds * PRICE_PER_GB_SECOND + len(invocations) * PRICE_PER_REQUEST


def local_stack_runs() -> list[CaseRun]:
    from moto.sesv2.models import SESV2Backend

    from local.client import send_standard, wait_for
    from local.stack import LocalStack, Ports
    from savedesk.store import CaseStore

    state_dir = Path(tempfile.mkdtemp(prefix="savedesk-bench-"))
    stack = LocalStack(ports=Ports.free(), state_dir=state_dir, log_level="WARNING").start()
    from savedesk.observability import logger

    logger.setLevel("WARNING")  # the warm-latency run built the shared Logger at the template's INFO

    # When each email reached SES, by recipient: the stand-in for "the client's inbox got it".
    landed: dict[str, float] = {}
    deliver = SESV2Backend.send_raw_email

    def send_raw_email(backend: Any, source: str, destinations: list[str], raw_data: str) -> Any:
        message = deliver(backend, source, destinations, raw_data)
        for address in destinations:
            landed.setdefault(address, time.perf_counter())
        return message

    SESV2Backend.send_raw_email = send_raw_email  # type: ignore[method-assign,assignment]

    # Each invocation's duration, by case: what Lambda would bill.
    timings: list[tuple[str, str, float]] = []  # (case id, function, ms)
    invoke = stack.lambdas.invoke

    def timed_invoke(name: str, event: Any) -> tuple[Any, str | None]:
        started = time.perf_counter()
        payload, error = invoke(name, event)
        ms = (time.perf_counter() - started) * 1000
        case_id = event.get("case_id") if isinstance(event, dict) else None
        if case_id is None and isinstance(payload, dict) and isinstance(payload.get("body"), str):
            try:
                case_id = json.loads(payload["body"]).get("case_id")
            except ValueError:
                case_id = None
        timings.append((str(case_id), name.split(":")[6] if name.startswith("arn:") else name, ms))
        return payload, error

    stack.lambdas.invoke = timed_invoke  # type: ignore[method-assign]

    sfn = stack.client("stepfunctions")
    store = CaseStore(stack.template.physical["CasesTable"], client=stack.client("dynamodb"))

    def execution_arn(case_id: str) -> str:
        return stack.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{case_id}"

    def wait(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        try:
            return wait_for(predicate, timeout, what, interval=0.005)  # a fine poll: the ack latency is timed
        except TimeoutError as timed_out:
            raise SystemExit(f"bench: {timed_out}") from None

    def one_case(kind: str) -> CaseRun:
        stack.reset_sandbox()
        # The agency's ClickUp plan (as `make demo`): Business Plus, 1,000 requests a minute.
        stack.vendor("clickup").rate_limit = 1000
        unique = uuid.uuid4().hex[:8]
        contact = f"dana+{unique}@acme-dental.example"
        body = json.loads((EVENTS / "crm-cancel-standard.json").read_text())
        body.update({"account_id": f"BENCH-{unique}", "contact_email": contact})

        started = time.perf_counter()
        response = send_standard(stack.api_url, "/webhooks/crm", body)
        assert response.status_code == 202, response.text
        case_id = response.json()["case_id"]
        ack = wait(lambda: landed.get(contact), 30, "the acknowledgement email") - started

        wait(lambda: store.peek_task_token(case_id, "meeting"), 60, "the meeting outcome wait")
        outcome = "form-meeting-outcome-saved.json" if kind == "saved" else "form-meeting-outcome-cancel.json"
        form = json.loads((EVENTS / outcome).read_text()) | {"case_id": case_id}
        response = send_standard(stack.api_url, "/webhooks/forms", form)
        assert response.status_code == 200, response.text
        execution = wait(
            lambda: (e := sfn.describe_execution(executionArn=execution_arn(case_id)))["status"] != "RUNNING" and e,
            300,
            f"case {case_id} to finish",
        )
        total = time.perf_counter() - started
        events = sfn.get_execution_history(executionArn=execution_arn(case_id), maxResults=1000)["events"]
        entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
        return CaseRun(
            kind=kind,
            case_id=case_id,
            ack_seconds=ack,
            total_seconds=total,
            final_state=entered[-1] if entered else "-",
            status=execution["status"],
            transitions=len(entered),
            invocations=[(fn, ms) for cid, fn, ms in timings if cid == case_id],
        )

    try:
        return [one_case(kind) for _ in range(LOCAL_CASES) for kind in ("saved", "offboarded")]
    finally:
        SESV2Backend.send_raw_email = deliver  # type: ignore[method-assign]
        stack.stop()


# -- the report -----------------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.machine()}"


def main() -> None:
    say(f"SaveDesk benchmark - {machine()}, load average {os.getloadavg()[0]:.2f} at start")
    say("Ratios compare CPU time (wall clock alongside): the machine is shared, and preemption by other")
    say("processes lands unevenly on the two sides of a ratio.")
    failures = 0

    say()
    say(f"1. Cold start: import of the handler module, fresh interpreter, median of {COLD_RUNS}")
    cold = cold_imports()
    boto3_wall, boto3_cpu = cold.pop("boto3")
    say(f"   {'':40} {'CPU':>8} {'wall':>8}   ratio (CPU)")
    say(f"   {'boto3 alone (the reference)':40} {boto3_cpu:6.0f} ms {boto3_wall:6.0f} ms")
    worst = 0.0
    for name, (wall, cpu) in sorted(cold.items(), key=lambda item: -item[1][1]):
        ratio = cpu / boto3_cpu
        worst = max(worst, ratio)
        say(f"   {name:40} {cpu:6.0f} ms {wall:6.0f} ms   {ratio:4.2f}x")
    failures += worst > TARGET_COLD_RATIO
    say(f"   worst ratio {worst:.2f}x boto3 (target <= {TARGET_COLD_RATIO}x): {verdict(worst <= TARGET_COLD_RATIO)}")

    say()
    say(f"2. Warm latency: webhook handler vs a bare handler, same Stubber'd AWS calls, {WARM_CALLS} calls each")
    warm = warm_latency()
    for label, wall_ms, cpu_ms in (
        ("webhook handler", warm.webhook_ms, warm.webhook_cpu_ms),
        ("bare handler", warm.bare_ms, warm.bare_cpu_ms),
    ):
        say(
            f"   {label:16} CPU p50 {percentile(cpu_ms, 50):5.2f} ms  p99 {percentile(cpu_ms, 99):5.2f} ms   "
            f"wall p50 {percentile(wall_ms, 50):5.2f} ms  p99 {percentile(wall_ms, 99):5.2f} ms"
        )
    cpu_ratio = percentile(warm.webhook_cpu_ms, 50) / percentile(warm.bare_cpu_ms, 50)
    cpu_ratio_99 = percentile(warm.webhook_cpu_ms, 99) / percentile(warm.bare_cpu_ms, 99)
    wall_ratio = percentile(warm.webhook_ms, 50) / percentile(warm.bare_ms, 50)
    say(
        f"   ratio CPU p50 {cpu_ratio:.2f}x, CPU p99 {cpu_ratio_99:.2f}x (wall p50 {wall_ratio:.2f}x); "
        f"target <= {TARGET_WARM_RATIO}x: {verdict(cpu_ratio <= TARGET_WARM_RATIO)}"
    )
    failures += cpu_ratio > TARGET_WARM_RATIO

    say()
    say(f"3. Local stack: {LOCAL_CASES} saved and {LOCAL_CASES} offboarded cases, one after another")
    runs = local_stack_runs()
    memory = memory_mb()
    for run in runs:
        say(
            f"   {run.kind:10} {run.case_id}  ack {run.ack_seconds * 1000:5.0f} ms  "
            f"whole case {run.total_seconds:5.2f} s  {run.status} at {run.final_state}  "
            f"{run.transitions} transitions  {len(run.invocations)} invocations"
        )
    ack = statistics.median(r.ack_seconds for r in runs)
    say(
        f"   webhook -> acknowledgement email, median {ack * 1000:.0f} ms "
        f"(target <= {TARGET_ACK_SECONDS * 1000:.0f} ms): {verdict(ack <= TARGET_ACK_SECONDS)}"
    )
    failures += ack > TARGET_ACK_SECONDS
    for kind in ("saved", "offboarded"):
        of_kind = [r for r in runs if r.kind == kind]
        failures += any(r.status != "SUCCEEDED" for r in of_kind)
        transitions = max(r.transitions for r in of_kind)
        sfn_cost = transitions * PRICE_PER_TRANSITION
        fn_cost = statistics.median(lambda_cost(r.invocations, memory) for r in of_kind)
        lambda_ms = statistics.median(sum(ms for _, ms in r.invocations) for r in of_kind)
        invocations = max(len(r.invocations) for r in of_kind)
        say(
            f"   {kind} case: whole case median {statistics.median(r.total_seconds for r in of_kind):.2f} s; "
            f"{transitions} state transitions; {invocations} Lambda invocations, {lambda_ms:.0f} ms in all"
        )
        say(
            f"      cost per case ${sfn_cost + fn_cost:.6f} (Step Functions ${sfn_cost:.6f} + Lambda ${fn_cost:.6f}); "
            f"per 1,000 cases ${1000 * (sfn_cost + fn_cost):.2f}"
        )
        if kind == "offboarded":
            ok = transitions <= TARGET_TRANSITIONS
            failures += not ok
            say(f"      transitions target <= {TARGET_TRANSITIONS}: {verdict(ok)}")

    say()
    say("All targets met." if not failures else f"{failures} target(s) missed; see docs/benchmarks.md.")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

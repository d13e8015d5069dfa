"""The business metrics as CloudWatch receives them: the EMF JSON each handler prints.

The handlers run as in Lambda (module loaded from functions/, Powertools decorators and all),
with metrics enabled and the namespace and service the template gives them. The case store is
the real CaseStore on moto; the vendors and the workflow are fakes.
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from collections.abc import Iterator
from decimal import Decimal
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from local.api import http_api_event
from local.client import hubspot_headers
from local.template import ROOT, LocalTemplate
from savedesk import wiring
from savedesk.models import Case, CaseStatus, MeetingOutcome
from savedesk.observability import metrics
from savedesk.settings import get_settings
from savedesk.store import CaseStore
from tests.unit.step_fakes import CASE_ID, Deps, demo_case, moto_dynamodb, new_case_store

HUBSPOT_SECRET = "metrics-test-hubspot-secret"
PUBLIC_BASE_URL = "https://savedesk.example"


def load_handler(relative_path: str) -> Any:
    """The function's handler, loaded from its file as Lambda loads it (CodeUri + Handler)."""
    path = ROOT / relative_path
    spec = importlib.util.spec_from_file_location(f"metrics_test_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


def context(name: str) -> SimpleNamespace:
    return SimpleNamespace(
        function_name=name,
        function_version="$LATEST",
        invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        memory_limit_in_mb=512,
        aws_request_id="req-1",
        get_remaining_time_in_millis=lambda: 30_000,
    )


def emf_documents(output: str) -> list[dict[str, Any]]:
    """The EMF documents among the printed lines (the Logger's JSON lines have no `_aws` key)."""
    found = []
    for line in output.splitlines():
        if line.startswith("{"):
            document = json.loads(line)
            if "_aws" in document:
                found.append(document)
    return found


def published(output: str) -> dict[str, tuple[str, list[float], list[list[str]], dict[str, Any]]]:
    """{metric name: (unit, values, dimension sets, the document)} over every EMF document printed."""
    metrics_by_name = {}
    for document in emf_documents(output):
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "SaveDesk"
        for definition in directive["Metrics"]:
            name = definition["Name"]
            metrics_by_name[name] = (definition["Unit"], document[name], directive["Dimensions"], document)
    return metrics_by_name


@pytest.fixture(autouse=True)
def metrics_enabled(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    environment = LocalTemplate().environment()
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    # The one Metrics instance was built at import, perhaps under another environment.
    monkeypatch.setattr(metrics, "namespace", environment["POWERTOOLS_METRICS_NAMESPACE"])
    monkeypatch.setattr(metrics, "service", environment["POWERTOOLS_SERVICE_NAME"])
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


@pytest.fixture
def store() -> Iterator[CaseStore]:
    with moto_dynamodb() as client:
        yield new_case_store(client)


@pytest.fixture
def deps(store: CaseStore, monkeypatch: pytest.MonkeyPatch) -> Deps:
    fakes = Deps.with_fakes()
    monkeypatch.setattr(wiring, "store", lambda: store)
    monkeypatch.setattr(wiring, "Deps", lambda context=None: fakes)
    return fakes


def saved(case: Case, mrr_saved: str | None) -> Case:
    meeting = MeetingOutcome(
        outcome="saved",
        offer_code="discount",
        mrr_saved=Decimal(mrr_saved) if mrr_saved else None,
        recorded_by="priya@topline-agency.example",
    )
    return case.model_copy(update={"meeting": meeting})


def test_record_save_publishes_the_save_and_the_mrr_kept(
    store: CaseStore, deps: Deps, capsys: pytest.CaptureFixture[str]
) -> None:
    store.open_case(saved(demo_case(), "3400.00"), {"source": "test"})

    load_handler("functions/steps/record_save.py")({"case_id": CASE_ID}, context("RecordSave"))

    found = published(capsys.readouterr().out)
    assert set(found) == {"CasesSaved", "MrrSaved"}
    assert found["CasesSaved"][:3] == ("Count", [1.0], [["service"]])
    assert found["MrrSaved"][:3] == ("None", [3400.0], [["service"]])
    document = found["MrrSaved"][3]
    assert document["service"] == "savedesk"
    assert document["case_id"] == CASE_ID  # metadata, not a dimension
    assert document["currency"] == "USD"


def test_a_save_without_a_recorded_amount_counts_the_whole_mrr(
    store: CaseStore, deps: Deps, capsys: pytest.CaptureFixture[str]
) -> None:
    store.open_case(saved(demo_case(mrr="2500.00"), None), {"source": "test"})

    load_handler("functions/steps/record_save.py")({"case_id": CASE_ID}, context("RecordSave"))

    assert published(capsys.readouterr().out)["MrrSaved"][1] == [2500.0]


def test_close_case_publishes_the_loss_once_even_when_forced_again(
    store: CaseStore, deps: Deps, capsys: pytest.CaptureFixture[str]
) -> None:
    store.open_case(demo_case(mrr="4000.00"), {"source": "test"})
    handler = load_handler("functions/steps/close_case.py")

    handler({"case_id": CASE_ID}, context("CloseCase"))
    first = published(capsys.readouterr().out)
    handler({"case_id": CASE_ID, "rerun": ["CloseCase"], "force": True}, context("CloseCase"))
    again = capsys.readouterr().out

    assert first["CasesClosed"][:3] == ("Count", [1.0], [["service"]])
    assert first["MrrLost"][:3] == ("None", [4000.0], [["service"]])
    assert first["MrrLost"][3]["case_id"] == CASE_ID
    assert store.get_case(CASE_ID).status == CaseStatus.CLOSED  # type: ignore[union-attr]
    assert emf_documents(again) == []


def test_a_failed_step_publishes_step_failures_with_the_step_as_metadata(
    store: CaseStore, deps: Deps, capsys: pytest.CaptureFixture[str]
) -> None:
    # RecordSave refuses a case whose meeting did not end in "saved".
    store.open_case(demo_case(), {"source": "test"})

    with pytest.raises(Exception, match="RecordSave"):
        load_handler("functions/steps/record_save.py")({"case_id": CASE_ID}, context("RecordSave"))

    found = published(capsys.readouterr().out)
    assert set(found) == {"StepFailures"}
    unit, value, dimensions, document = found["StepFailures"]
    # {service} only: StepFailuresAlarm in template.yaml watches exactly that dimension set.
    assert (unit, value, dimensions) == ("Count", [1.0], [["service"]])
    assert (document["step"], document["error_type"], document["case_id"]) == (
        "RecordSave",
        "PermanentError",
        CASE_ID,
    )


def test_a_step_that_records_no_metric_prints_nothing_and_warns_nothing(
    store: CaseStore, deps: Deps, capsys: pytest.CaptureFixture[str]
) -> None:
    store.open_case(demo_case(), {"source": "test"})
    handler = load_handler("functions/steps/close_case.py")
    handler({"case_id": CASE_ID}, context("CloseCase"))
    capsys.readouterr()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            handler({"case_id": CASE_ID}, context("CloseCase"))  # replayed: nothing new to count

    assert emf_documents(capsys.readouterr().out) == []
    assert [str(w.message) for w in caught] == []


# -- the ingress -------------------------------------------------------------------------------


class FakeWorkflow:
    def __init__(self) -> None:
        self.started: list[str] = []

    def start(self, case_id: str) -> None:
        self.started.append(case_id)


@pytest.fixture
def ingress(store: CaseStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, FakeWorkflow]]:
    for name, value in LocalTemplate({"PublicBaseUrl": PUBLIC_BASE_URL}).environment().items():
        monkeypatch.setenv(name, value)
    workflow = FakeWorkflow()
    wiring.reset()
    monkeypatch.setattr(wiring, "store", lambda: store)
    monkeypatch.setattr(wiring, "workflow", lambda: workflow)
    monkeypatch.setattr(wiring, "webhook_secrets", lambda: {"hubspot_client_secrets": [HUBSPOT_SECRET]})
    yield load_handler("functions/webhooks/app.py"), workflow
    get_settings.cache_clear()  # built from this test's environment


def hubspot_event(body: dict[str, Any]) -> dict[str, Any]:
    raw = json.dumps(body)
    path = "/webhooks/crm/hubspot"
    headers = hubspot_headers(PUBLIC_BASE_URL + path, raw.encode(), secret=HUBSPOT_SECRET)
    return http_api_event("POST", path, headers, raw)


def test_a_new_case_publishes_cases_opened_and_a_redelivery_publishes_nothing(
    ingress: tuple[Any, FakeWorkflow], capsys: pytest.CaptureFixture[str]
) -> None:
    handler, workflow = ingress
    body = json.loads((ROOT / "events" / "crm-cancel-hubspot.json").read_text())

    first = handler(hubspot_event(body), context("Ingress"))
    opened = published(capsys.readouterr().out)
    again = handler(hubspot_event(body), context("Ingress"))
    redelivered = capsys.readouterr().out

    assert first["statusCode"] == 202
    case_id = json.loads(first["body"])["case_id"]
    assert workflow.started[0] == case_id  # (a redelivery of a still-OPEN case starts it again: a no-op)
    assert set(opened) == {"CasesOpened"}
    unit, value, dimensions, document = opened["CasesOpened"]
    assert (unit, value, dimensions) == ("Count", [1.0], [["service"]])
    assert (document["case_id"], document["source"]) == (case_id, "hubspot")

    assert again["statusCode"] == 200
    assert emf_documents(redelivered) == []

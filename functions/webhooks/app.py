"""Webhook ingress: CRM cancel buttons and form submissions. Thin: verify, parse, hand over."""

from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from savedesk import forms, intake, wiring
from savedesk.errors import TransientError
from savedesk.integrations.signatures import SecretConfigError
from savedesk.observability import log_metrics, logger, metrics
from savedesk.settings import get_settings
from savedesk.webhooks import (
    HttpProblem,
    Inbound,
    check_size,
    parse_json,
    verify_hubspot,
    verify_standard,
    verify_typeform,
)

app = APIGatewayHttpResolver()


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status_code=status, content_type="application/json", body=body)


def _inbound() -> Inbound:
    event = app.current_event
    raw = event.get("body") or ""
    try:
        body = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw.encode("utf-8")
    except ValueError as exc:  # binascii.Error, or a body with non-ASCII characters
        raise HttpProblem(400, "malformed_body", "isBase64Encoded is set but the body is not base64") from exc
    query = event.get("rawQueryString") or ""
    url = get_settings().public_base_url + (event.get("rawPath") or "") + (f"?{query}" if query else "")
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    return Inbound(method=event["requestContext"]["http"]["method"], url=url, headers=headers, body=body)


def _open_case(source: str, delivery_id: str, payload: Any, property_map: dict[str, str] | None) -> Response:
    account = intake.account_from_crm(payload, property_map)
    result = intake.receive_cancellation(wiring.store(), wiring.workflow(), account, source, delivery_id)
    logger.append_keys(case_id=result.case_id)
    if result.created:
        # The CasesOpened EMF record (same log stream, with case_id and source) is the new case's log
        # line; a second, INFO one cost a quarter of the handler's own time (docs/benchmarks.md).
        metrics.add_metric(name="CasesOpened", unit=MetricUnit.Count, value=1)
        metrics.add_metadata(key="case_id", value=result.case_id)
        metrics.add_metadata(key="source", value=source)
        return _json(202, {"case_id": result.case_id, "status": result.status})
    logger.info("cancellation already open", extra={"outcome": result.reason, "source": source})
    return _json(200, {"case_id": result.case_id, "status": result.status, "duplicate": result.reason})


@app.post("/webhooks/crm/hubspot")
def crm_hubspot() -> Response:
    request = _inbound()
    check_size(request)
    delivery_id = verify_hubspot(request, wiring.webhook_secrets()["hubspot_client_secrets"])
    return _open_case("hubspot", delivery_id, parse_json(request), get_settings().crm_property_map)


@app.post("/webhooks/crm")
def crm_standard() -> Response:
    request = _inbound()
    check_size(request)
    delivery_id = verify_standard(request, wiring.webhook_secrets()["standard_webhook_secrets"])
    return _open_case("crm", delivery_id, parse_json(request), None)


def _record_form(source: str, delivery_id: str, submission: forms.Submission) -> Response:
    store = wiring.store()
    logger.append_keys(case_id=submission.case_id)
    if not store.record_delivery(source, delivery_id, submission.case_id):
        return _json(200, {"case_id": submission.case_id, "duplicate": "duplicate_delivery"})
    try:
        result = forms.apply(store, wiring.workflow(), submission)
    except (forms.FormRejected, TransientError):
        # Not acted on: a redelivery must be looked at afresh, not skipped as a duplicate.
        store.forget_delivery(source, delivery_id)
        raise
    logger.info("form answer recorded", extra={"recorded": result["recorded"]})
    return _json(200, result)


@app.post("/webhooks/forms/typeform")
def forms_typeform() -> Response:
    request = _inbound()
    check_size(request)
    verify_typeform(request, wiring.webhook_secrets()["typeform_secrets"])
    event_id, submission = forms.from_typeform(parse_json(request))
    return _record_form("typeform", event_id, submission)


@app.post("/webhooks/forms")
def forms_standard() -> Response:
    request = _inbound()
    check_size(request)
    delivery_id = verify_standard(request, wiring.webhook_secrets()["standard_webhook_secrets"])
    return _record_form("forms", delivery_id, forms.parse_submission(parse_json(request)))


_FORM_REJECTION_STATUS = {"unknown_case": 422, "already_decided": 409, "not_waiting": 409}


@app.exception_handler(forms.FormRejected)
def form_rejected(exc: forms.FormRejected) -> Response:
    status = _FORM_REJECTION_STATUS.get(exc.error, 422)
    logger.info("form answer refused", extra={"status": status, "error": exc.error})
    return _json(status, {"error": exc.error, "detail": exc.detail})


@app.exception_handler(HttpProblem)
def http_problem(exc: HttpProblem) -> Response:
    logger.info("webhook refused", extra={"status": exc.status, "error": exc.error})
    return _json(exc.status, exc.body())


@app.exception_handler(intake.InvalidPayload)
def invalid_payload(exc: intake.InvalidPayload) -> Response:
    logger.info("webhook refused", extra={"status": 400, "fields": [f["field"] for f in exc.fields]})
    return _json(400, {"error": "invalid_fields", "detail": str(exc), "fields": exc.fields})


@app.exception_handler(TransientError)
def our_failure(exc: TransientError) -> Response:
    # 503 so the sender retries: nothing was kept, nothing is lost.
    logger.exception("webhook not processed; the sender will retry")
    return _json(503, {"error": "temporarily_unavailable", "detail": "try again shortly"})


@app.exception_handler(SecretConfigError)
def misconfigured(exc: SecretConfigError) -> Response:
    logger.exception("webhook secret misconfigured")
    return _json(500, {"error": "server_misconfigured", "detail": "the webhook secret is not usable"})


@app.not_found
def not_found(exc: Exception) -> Response:
    # Never 404 on a webhook route family: Typeform disables a webhook that gets 404/410.
    return _json(400, {"error": "unknown_route", "detail": "no webhook is served at this path"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)

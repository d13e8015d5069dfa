"""Secrets from Secrets Manager, cached for a few minutes (Powertools parameters)."""

from __future__ import annotations

from typing import Any

from savedesk.errors import PermanentError, TransientError

CACHE_SECONDS = 300


def read_secret(secret_id: str, *, refresh: bool = False) -> dict[str, Any]:
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_secret(secret_id, transform="json", max_age=CACHE_SECONDS, force_fetch=refresh)
    except parameters.exceptions.GetParameterError as exc:
        # Throttling or an outage at cold start: the ingress answers 5xx, a step retries.
        raise TransientError(f"secrets: could not read {secret_id}") from exc
    if not isinstance(value, dict):
        raise PermanentError(f"secrets: {secret_id} is not a JSON object")
    return value

"""Typed configuration from the environment, checked once per cold start.

The values come from template.yaml (Globals and Parameters); secrets never do: only the
ids of the Secrets Manager secrets that hold them.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from functools import cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

NonEmpty = Annotated[str, Field(min_length=1)]


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: str = "dev"
    cases_table: NonEmpty
    state_machine_arn: str = ""  # only the ingress starts executions
    webhook_secrets_id: NonEmpty
    vendor_secrets_id: NonEmpty
    public_base_url: NonEmpty
    sender_email: NonEmpty
    email_configuration_set: NonEmpty
    owner_email: NonEmpty
    coordinator_email: NonEmpty
    ops_slack_channel: NonEmpty
    owner_slack_user_id: NonEmpty
    exit_survey_url: NonEmpty
    outcome_form_url: NonEmpty
    booking_url: NonEmpty
    meeting_reminder_after_seconds: Annotated[int, Field(ge=1)]
    meeting_escalate_after_seconds: Annotated[int, Field(ge=1)]
    refund_approval_threshold: Decimal
    mailfold_enabled: bool = False
    clickup_ads_team_list_id: NonEmpty
    clickup_account_management_list_id: NonEmpty
    clickup_debrief_list_id: NonEmpty
    crm_property_map: dict[str, str]
    slack_api_base: NonEmpty
    clickup_api_base: NonEmpty
    stripe_api_base: NonEmpty
    topline_api_base: NonEmpty
    mailfold_api_base: NonEmpty
    console_region: str = "us-east-1"
    agency_name: str = "Topline"

    @field_validator("crm_property_map", mode="before")
    @classmethod
    def _parse_map(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator(
        "public_base_url",
        "slack_api_base",
        "clickup_api_base",
        "stripe_api_base",
        "topline_api_base",
        "mailfold_api_base",
    )
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


class ConfigurationError(RuntimeError):
    """The function's environment is incomplete: a deployment mistake, reported at cold start."""


@cache
def get_settings() -> Settings:
    names = Settings.model_fields.keys()
    values = {name: os.environ[name.upper()] for name in names if name.upper() in os.environ}
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid SaveDesk configuration: {exc}") from exc

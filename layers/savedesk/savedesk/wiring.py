"""The composition root: builds the store and the vendor clients from settings and secrets.

Built lazily and cached per container, so a function pays only for the clients it uses.
Tests hand the domain their own store and clients instead.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from savedesk.secrets import read_secret
from savedesk.settings import get_settings

if TYPE_CHECKING:
    from savedesk.integrations.stepfunctions import Workflow
    from savedesk.store import CaseStore


@cache
def store() -> CaseStore:
    from savedesk.store import CaseStore

    return CaseStore(get_settings().cases_table)


@cache
def workflow() -> Workflow:
    from savedesk.integrations.stepfunctions import Workflow

    return Workflow(get_settings().state_machine_arn)


def webhook_secrets() -> dict[str, Any]:
    return read_secret(get_settings().webhook_secrets_id)


def vendor_secrets() -> dict[str, Any]:
    return read_secret(get_settings().vendor_secrets_id)


def reset() -> None:
    """Forget cached clients, settings and secrets (tests that change the environment call this)."""
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters import base

    store.cache_clear()
    workflow.cache_clear()
    get_settings.cache_clear()
    parameters.clear_caches()
    # The providers keep the boto3 client they were built with, endpoint included.
    base.DEFAULT_PROVIDERS.clear()


class Deps:
    """The ports the checklist steps use, each built on first use.

    `budget_seconds` is the Lambda's remaining time less a margin, so a client never waits
    on a rate limit past the invocation's end.
    """

    def __init__(self, context: Any = None) -> None:
        self.settings = get_settings()
        self._context = context
        self._built: dict[str, Any] = {}

    def budget_seconds(self) -> float:
        if self._context is None:
            return 20.0
        return max(0.0, self._context.get_remaining_time_in_millis() / 1000 - 5.0)

    def _once(self, name: str, build: Any) -> Any:
        if name not in self._built:
            self._built[name] = build()
        return self._built[name]

    def _token(self, key: str) -> str:
        value = vendor_secrets().get(key)
        if not value:
            from savedesk.errors import PermanentError

            raise PermanentError(f"secrets: {key} is not set in {self.settings.vendor_secrets_id}")
        return str(value)

    @property
    def mailer(self) -> Any:
        from savedesk.integrations.ses import Mailer

        s = self.settings
        return self._once("mailer", lambda: Mailer(s.sender_email, s.agency_name, s.email_configuration_set))

    @property
    def slack(self) -> Any:
        from savedesk.integrations.slack import SlackClient

        return self._once(
            "slack",
            lambda: SlackClient(
                self.settings.slack_api_base, self._token("slack_bot_token"), budget_seconds=self.budget_seconds
            ),
        )

    @property
    def clickup(self) -> Any:
        from savedesk.integrations.clickup import ClickUpClient

        return self._once(
            "clickup",
            lambda: ClickUpClient(
                self.settings.clickup_api_base, self._token("clickup_token"), budget_seconds=self.budget_seconds
            ),
        )

    @property
    def billing(self) -> Any:
        from savedesk.integrations.billing import BillingClient

        return self._once(
            "billing", lambda: BillingClient(self._token("stripe_api_key"), self.settings.stripe_api_base)
        )

    @property
    def topline(self) -> Any:
        from savedesk.integrations.topline import ToplineClient

        return self._once(
            "topline",
            lambda: ToplineClient(
                self.settings.topline_api_base, self._token("topline_api_key"), budget_seconds=self.budget_seconds
            ),
        )

    @property
    def mailfold(self) -> Any:
        from savedesk.integrations.mailfold import MailfoldClient

        return self._once(
            "mailfold",
            lambda: MailfoldClient(
                self.settings.mailfold_api_base,
                self._token("mailfold_api_key"),
                budget_seconds=self.budget_seconds,
            ),
        )

    @property
    def workflow(self) -> Any:
        return workflow()
